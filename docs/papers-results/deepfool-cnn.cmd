advlab eval --model www/models/mnist-cnn.safetensors --n 1000 --attack deepfool --norm l2 --eta 28

advlab eval --model www/models/mnist-cnn.safetensors --n 1000 --attack cw --norm l2 --eta 28

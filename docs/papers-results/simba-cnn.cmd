advlab eval --model www/models/mnist-cnn.safetensors --n 1000 --attack simba --eta 0.3

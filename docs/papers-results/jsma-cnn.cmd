advlab eval --model www/models/mnist-cnn.safetensors --n 1000 --attack jsma --eta 1 --targeted

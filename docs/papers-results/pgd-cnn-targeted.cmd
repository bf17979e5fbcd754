advlab eval --model www/models/mnist-cnn.safetensors --n 1000 --attack pgd --eta 0.3 --targeted

advlab eval --model www/models/mnist-cnn.safetensors --n 1000 --attack fgsm --eta 0.3

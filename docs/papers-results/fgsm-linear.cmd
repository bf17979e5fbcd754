advlab eval --model www/models/mnist-linear.safetensors --n 1000 --attack fgsm --eta 0.25

advlab transfer --from www/models/mnist-linear.safetensors --to www/models/mnist-linear.safetensors --attack fgsm --eta 0.3 --n 1000

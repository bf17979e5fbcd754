advlab transfer --from www/models/mnist-cnn.safetensors --to www/models/mnist-linear.safetensors --attack fgsm --eta 0.3 --n 1000

advlab transfer --from www/models/mnist-cnn.safetensors --to www/models/mnist-cnn.safetensors --attack fgsm --eta 0.3 --n 1000

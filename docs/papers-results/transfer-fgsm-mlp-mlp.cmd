advlab transfer --from www/models/mnist-mlp.safetensors --to www/models/mnist-mlp.safetensors --attack fgsm --eta 0.3 --n 1000

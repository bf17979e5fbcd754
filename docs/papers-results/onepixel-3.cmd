advlab eval --model www/models/mnist-cnn.safetensors --n 100 --attack one_pixel --eta 1 --params {"pixels":3}

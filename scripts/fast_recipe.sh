# The fast CIFAR-10 recipe's optimisation settings, every one explicit (library defaults may
# change between versions; commsldr.train.FAST_PRESET is the same recipe). Sourced by
# reproduce_cifar10.sh, train_entropy_bottleneck.sh and fast_recipe_epochs.sh, which add the
# stage's own flags (recipe, epochs, latent size, data, threads).
# shellcheck shell=bash
FAST_RECIPE=(--fast --backbone airnet --width 1.0 --batch-size 1024 --optimizer sgd
             --schedule triangle --lr 1.500127388535032 --augment light --amp
             --set momentum=0.85 --set nesterov=true --set weight_decay=0.0013304347826086956
             --set label_smoothing=0.2 --set bias_lr_scale=64.0 --set warmup=0.23
             --set channels_last=true --set lookahead=true --set side_dim=null)

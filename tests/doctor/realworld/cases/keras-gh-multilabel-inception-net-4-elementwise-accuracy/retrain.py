"""Retrain the top of Inception v3 for multi-label image tagging (one label file per image)."""
import argparse
import os
from datetime import datetime

import numpy as np
import tensorflow as tf

from bottlenecks import cache_bottlenecks, create_image_lists, create_inception_graph, get_random_cached_bottlenecks

BOTTLENECK_SIZE = 2048
ALL_TAGS_FILE = 'labels.txt'

parser = argparse.ArgumentParser()
parser.add_argument('--image_dir', default='images')
parser.add_argument('--bottleneck_dir', default='/tmp/bottleneck')
parser.add_argument('--learning_rate', type=float, default=0.01)
parser.add_argument('--steps', type=int, default=4000)
parser.add_argument('--eval_every', type=int, default=10)
parser.add_argument('--train_batch', type=int, default=100)
parser.add_argument('--val_batch', type=int, default=100)
args = parser.parse_args()


def add_tagging_head(n_tags, bottleneck):
    with tf.name_scope('input'):
        feats = tf.placeholder_with_default(bottleneck, shape=[None, BOTTLENECK_SIZE], name='FeatInput')
        truth = tf.placeholder(tf.float32, [None, n_tags], name='TruthInput')
    with tf.name_scope('head'):
        w = tf.Variable(tf.truncated_normal([BOTTLENECK_SIZE, n_tags], stddev=0.001), name='w')
        b = tf.Variable(tf.zeros([n_tags]), name='b')
        logits = tf.matmul(feats, w) + b
    probs = tf.nn.sigmoid(logits, name='final_result')
    with tf.name_scope('loss'):
        xent = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(logits=logits, labels=truth))
        tf.summary.scalar('cross_entropy', xent)
    train_op = tf.train.GradientDescentOptimizer(args.learning_rate).minimize(xent)
    return train_op, xent, feats, truth, probs


def add_accuracy(probs, truth):
    with tf.name_scope('accuracy'):
        hits = tf.equal(tf.round(probs), truth)
        acc = tf.reduce_mean(tf.cast(hits, tf.float32))
        tf.summary.scalar('accuracy', acc)
    return acc


def main():
    graph, bottleneck, jpeg_input, resized_input = create_inception_graph()
    image_lists = create_image_lists(args.image_dir, testing_percentage=10, validation_percentage=10)
    with open(ALL_TAGS_FILE) as f:
        tags = f.read().splitlines()
    n_tags = len(tags)

    sess = tf.Session()
    cache_bottlenecks(sess, image_lists, args.image_dir, args.bottleneck_dir, jpeg_input, bottleneck)

    train_op, xent, feats, truth, probs = add_tagging_head(n_tags, bottleneck)
    acc = add_accuracy(probs, truth)
    sess.run(tf.global_variables_initializer())

    for step in range(args.steps):
        x, y = get_random_cached_bottlenecks(sess, image_lists, args.train_batch, 'training',
                                             args.bottleneck_dir, args.image_dir, jpeg_input, bottleneck, tags)
        sess.run(train_op, feed_dict={feats: x, truth: y})
        if step % args.eval_every == 0 or step + 1 == args.steps:
            train_acc, loss_value = sess.run([acc, xent], feed_dict={feats: x, truth: y})
            print('%s: Step %d: Train accuracy = %.1f%%' % (datetime.now(), step, train_acc * 100))
            print('%s: Step %d: Cross entropy = %f' % (datetime.now(), step, loss_value))
            vx, vy = get_random_cached_bottlenecks(sess, image_lists, args.val_batch, 'validation',
                                                   args.bottleneck_dir, args.image_dir, jpeg_input, bottleneck, tags)
            val_acc = sess.run(acc, feed_dict={feats: vx, truth: vy})
            print('%s: Step %d: Validation accuracy = %.1f%%' % (datetime.now(), step, val_acc * 100))

    tx, ty = get_random_cached_bottlenecks(sess, image_lists, 1000, 'testing',
                                           args.bottleneck_dir, args.image_dir, jpeg_input, bottleneck, tags)
    print('Final test accuracy = %.1f%%' % (sess.run(acc, feed_dict={feats: tx, truth: ty}) * 100))
    os.makedirs('out', exist_ok=True)
    tf.train.Saver().save(sess, 'out/tagger.ckpt')


if __name__ == '__main__':
    main()

import tensorflow as tf

from configuration import CATEGORY_NUM, EPOCHS, save_model_dir
from data_process.make_dataset import generate_dataset
from utils.preprocess import process_image_filenames
from yolo.loss import YoloLoss
from yolo.make_label import GenerateLabel
from yolo.yolo_v3 import YOLOV3

if __name__ == '__main__':
    train_dataset, train_count = generate_dataset()
    net = YOLOV3(out_channels=3 * (CATEGORY_NUM + 5))
    yolo_loss = YoloLoss()
    optimizer = tf.optimizers.RMSprop()

    for epoch in range(EPOCHS):
        for filenames, boxes in train_dataset:
            images = process_image_filenames(filenames.numpy())
            labels = GenerateLabel(true_boxes=boxes.numpy()).generate_label()
            with tf.GradientTape() as tape:
                loss = yolo_loss(y_true=labels, y_pred=net(images, training=True))
            gradients = tape.gradient(loss, net.trainable_variables)
            optimizer.apply_gradients(zip(gradients, net.trainable_variables))

    net.save_weights(filepath=save_model_dir + "saved_model", save_format="tf")

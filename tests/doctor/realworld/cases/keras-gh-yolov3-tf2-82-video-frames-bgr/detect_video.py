import time
from absl import app, flags, logging
from absl.flags import FLAGS
import cv2
import tensorflow as tf
from yolov3_tf2.models import YoloV3, YoloV3Tiny
from yolov3_tf2.dataset import transform_images
from yolov3_tf2.utils import draw_outputs

flags.DEFINE_string('classes', './data/coco.names', 'class names, one per line')
flags.DEFINE_string('weights', './checkpoints/yolov3.tf', 'checkpoint to load')
flags.DEFINE_boolean('tiny', False, 'use the tiny variant')
flags.DEFINE_integer('size', 416, 'network input size')
flags.DEFINE_string('capeo', './data/capeo.mp4', 'capeo file, or camera index')
flags.DEFINE_integer('num_classes', 80, 'classes the model predicts')


def main(_argv):
    if FLAGS.tiny:
        yolo = YoloV3Tiny(classes=FLAGS.num_classes)
    else:
        yolo = YoloV3(classes=FLAGS.num_classes)

    yolo.load_weights(FLAGS.weights)
    logging.info('model ready')

    class_names = [c.strip() for c in open(FLAGS.classes).readlines()]
    
    lat_ms = []
    try:
        cap = cv2.VideoCapture(int(FLAGS.capeo))
    except ValueError:
        cap = cv2.VideoCapture(FLAGS.capeo)

    while True:
        _, img = cap.read()
        if img is None:
            logging.warning("no frame")
            time.sleep(0.1)
            continue

        batch = tf.expand_dims(img, 0)
        batch = transform_images(batch, FLAGS.size)

        t1 = time.time()
        boxes, scores, classes, nums = yolo.predict(batch)
        t2 = time.time()
        lat_ms.append(t2 - t1)
        lat_ms = lat_ms[-20:]

        img = draw_outputs(img, (boxes, scores, classes, nums), class_names)
        img = cv2.putText(img, "{:.1f} ms".format(sum(lat_ms) / len(lat_ms) * 1000), (0, 30),
                          cv2.FONT_HERSHEY_COMPLEX_SMALL, 1, (0, 0, 255), 2)
        cv2.imshow('yolo', img)
        if cv2.waitKey(1) == ord('q'):
            break

    cv2.destroyAllWindows()


if __name__ == '__main__':
    try:
        app.run(main)
    except SystemExit:
        pass

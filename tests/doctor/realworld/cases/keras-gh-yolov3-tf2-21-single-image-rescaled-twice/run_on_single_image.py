import cv2
import tensorflow as tf

from configuration import test_picture_dir, save_model_dir, CHANNELS, CATEGORY_NUM, PASCAL_VOC_CLASSES
from utils.preprocess import resize_image_with_pad
from yolo.inference import Inference
from yolo.yolo_v3 import YOLOV3


def find_class_name(class_id):
    for k, v in PASCAL_VOC_CLASSES.items():
        if v == class_id:
            return k


def draw_boxes_on_image(image, boxes, scores, classes):
    for i in range(boxes.shape[0]):
        text = str(find_class_name(classes[i])) + ": " + str(scores[i].numpy())
        cv2.rectangle(img=image, pt1=(boxes[i, 0], boxes[i, 1]), pt2=(boxes[i, 2], boxes[i, 3]),
                      color=(255, 0, 0), thickness=10)
        cv2.putText(img=image, text=text, org=(boxes[i, 0], boxes[i, 1] - 10),
                    fontFace=cv2.FONT_HERSHEY_COMPLEX, fontScale=1.5, color=(0, 255, 255), thickness=5)
    return image


def single_image_inference(image_dir, model):
    image = tf.io.decode_jpeg(contents=tf.io.read_file(image_dir), channels=CHANNELS)
    h = image.shape[0]
    w = image.shape[1]
    input_image_shape = tf.constant([h, w], dtype=tf.dtypes.float32)
    img_tensor = resize_image_with_pad(image)
    img_tensor = tf.dtypes.cast(img_tensor, dtype=tf.dtypes.float32)
    img_tensor = img_tensor / 255.0
    yolo_output = model(img_tensor, training=False)
    boxes, scores, classes = Inference(yolo_output=yolo_output, input_image_shape=input_image_shape).get_final_boxes()
    return draw_boxes_on_image(cv2.imread(image_dir), boxes, scores, classes)


if __name__ == '__main__':
    yolo_v3 = YOLOV3(out_channels=3 * (CATEGORY_NUM + 5))
    yolo_v3.load_weights(filepath=save_model_dir + "saved_model")
    image = single_image_inference(image_dir=test_picture_dir, model=yolo_v3)
    cv2.namedWindow("detect result", flags=cv2.WINDOW_NORMAL)
    cv2.imshow("detect result", image)
    cv2.waitKey(0)

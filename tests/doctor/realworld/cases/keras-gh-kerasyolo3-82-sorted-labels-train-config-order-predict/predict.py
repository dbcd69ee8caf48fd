import json
import sys

import cv2
from keras.models import load_model

from utils.bbox import draw_boxes
from utils.utils import get_yolo_boxes

config = json.load(open("config.json"))
infer_model = load_model(config['train']['saved_weights_name'])

net_h, net_w = 416, 416
obj_thresh, nms_thresh = 0.5, 0.45

image = cv2.imread(sys.argv[1])
boxes = get_yolo_boxes(infer_model, [image], net_h, net_w, config['model']['anchors'], obj_thresh, nms_thresh)[0]
draw_boxes(image, boxes, config['model']['labels'], obj_thresh)
cv2.imwrite("output/" + sys.argv[1].split('/')[-1], image)

print(ImageDataBunch.from_folder('images', valid_pct=0.2, test='test').classes)
print(ImageDataBunch.from_csv('images', valid_pct=0.2, test='test').classes)

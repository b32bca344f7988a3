"""The chapter's own code paths, transcribed faithfully (with its TF1/Keras 2 parts replaced only
where they no longer run), used as the reference side of tests and benchmarks.

- :func:`chapter_colordist`: its numpy colour distance, verbatim ("Using OpenCV for image
  preprocessing");
- :func:`chapter_filter` and :func:`chapter_path`: its mask (every pixel far from all four target
  colours is blacked out) and its clean-up, ``cv2.medianBlur(img, 9)`` over the colour image;
- :func:`chapter_sequential`: its imgaug chain, verbatim;
- :data:`CHAPTER_KERAS`: the augmentation arguments of its Keras ``ImageDataGenerator``;
- :func:`chapter_deprocess_image` and :func:`chapter_gradient_ascent`: its filter and class
  visualisation ("Understanding what ConvNets learn"), the TF1 ``K.gradients``/``K.function``
  pair replaced by an eager ``tf.GradientTape``, the plain TF2 port.
"""

from __future__ import annotations

import warnings

import numpy as np

# The chapter's four target colours and their thresholds, in its order.
TARGETS = (
    ((71, 86, 38), 1600),
    ((65, 79, 19), 1600),
    ((95, 106, 56), 1600),
    ((56, 63, 43), 500),
)

# The chapter's ImageDataGenerator arguments (augmentation only; rescale is not augmentation).
CHAPTER_KERAS = dict(rotation_range=90, width_shift_range=0.2, height_shift_range=0.2,
                     shear_range=0.2, zoom_range=0.1, horizontal_flip=True, fill_mode="nearest")


def chapter_colordist(img, target):
    """The chapter's colordist, verbatim (Using OpenCV for image preprocessing)."""
    img = img.astype('int')

    aR, aG, aB = img[:,:,0], img[:,:,1], img[:,:,2]
    bR, bG, bB = target

    rmean = ((aR + bR) / 2.).astype('int')

    r2 = np.square(aR - bR)
    g2 = np.square(aG - bG)
    b2 = np.square(aB - bB)


    result = (((512+rmean)*r2)>>8) + 4*g2 + (((767-rmean)*b2)>>8)

    return result  # fmt: skip


def chapter_filter(img: np.ndarray, targets=TARGETS) -> np.ndarray:
    """The chapter's ``img_filter`` of an RGB image: True where a pixel is far from every target.

    The chapter writes its four ``(colordist(img, rgb) > threshold)`` out joined by ``&``; this is
    the same conjunction over any ``(rgb, threshold)`` pairs (its own by default).
    """
    img_filter = np.ones(img.shape[:2], bool)
    for rgb, threshold in targets:
        img_filter &= chapter_colordist(img, rgb) > threshold
    return img_filter


def chapter_path(img: np.ndarray, targets=TARGETS) -> np.ndarray:
    """The chapter's mask and clean-up of one RGB uint8 image, as its generator does it."""
    import cv2  # here, not at the top: importing cv2 repoints QT_QPA_PLATFORM_PLUGIN_PATH

    img = img.copy()
    img[chapter_filter(img, targets)] = 0
    return cv2.medianBlur(img, 9)


def chapter_sequential():
    """The chapter's imgaug chain, verbatim."""
    # Here, not at the top: importing imgaug puts back numpy names that numpy 2 removed (and
    # imports cv2), which only the tests that use imgaug should see.
    from filterscope.core.augment.imgaug_compat import iaa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # imgaug's own DeprecationWarning for ContrastNormalization
        seq = iaa.Sequential([
            iaa.Fliplr(0.5),
            iaa.Crop(percent=(0, 0.1)),

            iaa.Sometimes(0.5,
                iaa.GaussianBlur(sigma=(0, 0.5))
            ),

            iaa.ContrastNormalization((0.75, 1.5)),

            iaa.AdditiveGaussianNoise(loc=0, scale=(0.0, 0.05*255), per_channel=0.5),

            iaa.Multiply((0.8, 1.2), per_channel=0.2),

        ], random_order=True)  # fmt: skip
    return seq


EPSILON = 1e-7  # K.epsilon()


def chapter_deprocess_image(x):
    """The chapter's ``deprocess_image``, verbatim (K.epsilon() spelled out)."""
    x = np.array(x, dtype=np.float64)  # the chapter works on the float array in place

    x -= x.mean()
    x /= (x.std() + EPSILON)
    x *= 0.1


    x += 0.5
    x = np.clip(x, 0, 1)


    x *= 255

    x = np.clip(x, 0, 255).astype('uint8')
    return x  # fmt: skip


def chapter_gradient_ascent(model, input_img_data, index, *, alpha, steps, output=False):
    """The chapter's ascent loop: ``loss = K.mean(layer_output[:, :, :, filter_index])`` (or
    ``K.mean(model.output[:, output_index])``), gradients normalised by their RMS, ``steps``
    updates of ``alpha``, eagerly, one image at a time. ``model`` is the model cut at the layer
    (or the whole model for an output).

    Returns:
        The image after the loop and the loss before each step.
    """
    import tensorflow as tf
    from keras import ops as K

    def normalize(x):

        return x / (K.sqrt(K.mean(K.square(x))) + EPSILON)  # fmt: skip

    def iterate(inputs):
        input_img = tf.convert_to_tensor(inputs[0])
        with tf.GradientTape() as tape:
            tape.watch(input_img)
            layer_output = model(input_img)
            if output:
                loss = K.mean(layer_output[:, index])
            else:
                loss = K.mean(layer_output[:, :, :, index])
        grads = normalize(tape.gradient(loss, input_img))
        return [float(loss), np.asarray(grads)]

    input_img_data = np.array(input_img_data, dtype=np.float32)
    losses = []
    for i in range(steps):
        loss_value, grads_value = iterate([input_img_data])
        input_img_data += grads_value * alpha
        losses.append(loss_value)
    return input_img_data, losses

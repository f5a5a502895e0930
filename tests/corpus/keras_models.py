"""The Keras corpus: real third-party model code (keras.applications) with random weights, and models
written here from the published descriptions of keras.io examples (weaker witnesses: our code, not
theirs). Nothing is downloaded: every application is built with ``weights=None``, without its top,
on inputs of any size ``(None, None, 3)``.

Each case gives its builder (taking the ``keras`` module), the input shape the file is inspected at,
and the sizes swept along each spatial axis (the other held at the base size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Small sizes, where 'valid' layers run out of input, odd sizes, and a span of ordinary ones.
SWEEP = (*range(1, 16, 2), *range(16, 81))
# For the deep applications (hundreds of layers run per size): the small and odd sizes, both sides
# of each power of two.
THIN = (1, 3, 5, 7, 9, 11, 13, 15, 16, 17, 23, 31, 32, 33, 39, 47, 48, 63, 64, 65, 79, 80)


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    build: Callable[[Any], Any]
    base: tuple[int, int] = (64, 64)
    sweep: tuple[int, ...] = SWEEP
    channels: int = 3
    # Layers that cannot be modelled (a Lambda): the answer must stop there, "not worked out".
    opaque: tuple[str, ...] = ()

    def base_shape(self) -> tuple[int, ...]:
        return (1, *self.base, self.channels)

    def shapes(self) -> list[tuple[int, ...]]:
        """Both spatial axes swept, the other held at the base size."""
        h, w = self.base
        tall = [(1, s, w, self.channels) for s in self.sweep]
        wide = [(1, h, s, self.channels) for s in self.sweep if s != h]
        return tall + wide


def _application(name: str, **options: Any) -> Callable[[Any], Any]:
    def build(keras: Any) -> Any:
        factory = getattr(keras.applications, name)
        return factory(include_top=False, weights=None, input_shape=(None, None, 3), **options)

    return build


def unet_like(keras: Any) -> Any:
    """The keras.io "image segmentation with a U-Net-like architecture" (Oxford pets) model, written
    from its description: a stride-2 stem, down blocks of two separable convolutions and a 3x3
    stride-2 'same' max pool with a 1x1 stride-2 residual, up blocks of two transposed convolutions
    and a x2 upsampling with an upsampled 1x1 residual, a per-pixel softmax."""
    layers = keras.layers
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous = x
    for filters in (16, 32):
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous)
        x = layers.add([x, residual])
        previous = x
    for filters in (32, 16, 8):
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.UpSampling2D(2)(x)
        residual = layers.UpSampling2D(2)(previous)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])
        previous = x
    outputs = layers.Conv2D(3, 3, activation="softmax", padding="same")(x)
    return keras.Model(inputs, outputs, name="unet_like")


def denoising_autoencoder(keras: Any) -> Any:
    """The keras.io "convolutional autoencoder for image denoising", written from its description:
    two 3x3 'same' convolutions each followed by a 2x2 'same' max pool, two 3x3 stride-2 'same'
    transposed convolutions, a 3x3 sigmoid convolution; one grey channel."""
    layers = keras.layers
    inputs = keras.Input((None, None, 1))
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(8, 3, strides=2, activation="relu", padding="same")(x)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, outputs, name="denoising_autoencoder")


def classic_unet(keras: Any) -> Any:
    """A U-Net after Ronneberger et al.'s description at toy width: 'same' 3x3 convolutions, 2x2
    'valid' max pools, 2x2 stride-2 transposed convolutions and concatenated skips, so that sizes
    not divisible by 8 make a skip and its upsampled partner differ (Keras refuses the concat)."""
    layers = keras.layers
    inputs = keras.Input((None, None, 3))
    skips = []
    x = inputs
    for filters in (4, 8, 16):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    for filters, skip in zip((16, 8, 4), reversed(skips)):
        x = layers.Conv2DTranspose(filters, 2, strides=2)(x)
        x = layers.Concatenate()([skip, x])
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    outputs = layers.Conv2D(2, 1)(x)
    return keras.Model(inputs, outputs, name="classic_unet")


def espcn(keras: Any) -> Any:
    """The keras.io "image super-resolution using an efficient sub-pixel CNN" model, written from its
    description: 'same' convolutions then depth-to-space by the upscale factor, here as a Lambda (a
    layer inspect cannot read: its answer must be 'not worked out')."""
    layers = keras.layers
    inputs = keras.Input((None, None, 1))
    x = layers.Conv2D(16, 5, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(1 * 3**2, 3, padding="same")(x)
    outputs = layers.Lambda(_depth_to_space, name="depth_to_space")(x)
    return keras.Model(inputs, outputs, name="espcn")


def _depth_to_space(t: Any) -> Any:
    """ESPCN's sub-pixel step by 3 (a plain function: `.h5` saving copies a Lambda's closure)."""
    import keras

    return keras.ops.depth_to_space(t, 3)


APPLICATIONS = [
    Case("MobileNetV2", "keras.applications", _application("MobileNetV2", alpha=0.35)),
    Case("MobileNetV3Small", "keras.applications", _application("MobileNetV3Small", minimalistic=False)),
    Case("ResNet50", "keras.applications", _application("ResNet50"), sweep=THIN),
    Case("ResNet50V2", "keras.applications", _application("ResNet50V2"), sweep=THIN),
    Case("EfficientNetB0", "keras.applications", _application("EfficientNetB0"), sweep=THIN),
    Case("DenseNet121", "keras.applications", _application("DenseNet121"), sweep=THIN),
    Case("ConvNeXtTiny", "keras.applications", _application("ConvNeXtTiny"), sweep=THIN),
    Case("Xception", "keras.applications", _application("Xception"), sweep=THIN),
    Case("VGG16", "keras.applications", _application("VGG16")),
    Case("InceptionV3", "keras.applications", _application("InceptionV3"), base=(80, 80), sweep=THIN),
    Case("EfficientNetV2B0", "keras.applications", _application("EfficientNetV2B0"), sweep=THIN),
    Case("MobileNet", "keras.applications", _application("MobileNet", alpha=0.25)),
]
EXAMPLES = [
    Case("unet_like", "keras.io description", unet_like),
    Case("denoising_autoencoder", "keras.io description", denoising_autoencoder, channels=1),
    Case("classic_unet", "U-Net description", classic_unet),
    Case("espcn", "keras.io description", espcn, channels=1, opaque=("depth_to_space",)),
]
CASES = APPLICATIONS + EXAMPLES

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
    # The library the model code comes from, when it is not Keras itself.
    library: str = "keras"

    def available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec(self.library) is not None

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


def vae_encoder(keras: Any) -> Any:
    """The keras.io "variational autoencoder" (MNIST) encoder, written from its description: two 3x3
    stride-2 'same' convolutions, flatten, a dense layer and the two latent heads. The dense layer
    fixes the flattened length, so only sizes whose stride-4 map is 7 run (25 to 28)."""
    layers = keras.layers
    inputs = keras.Input((28, 28, 1))  # the dense layer needs a known flattened length
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(16, activation="relu")(x)
    mean = layers.Dense(2, name="z_mean")(x)
    log_var = layers.Dense(2, name="z_log_var")(x)
    return keras.Model(inputs, [mean, log_var], name="vae_encoder")


def feature_pyramid(keras: Any) -> Any:
    """A feature extractor returning a dict of named levels (as keras-hub's backbones do), nested in a
    model that upsamples the coarse level and concatenates it with the fine one: odd sizes refuse."""
    layers = keras.layers
    image = keras.Input((None, None, 3))
    p2 = layers.Conv2D(4, 3, strides=2, padding="same", name="stem")(image)
    p3 = layers.Conv2D(8, 3, strides=2, padding="same", name="down")(p2)
    encoder = keras.Model(image, {"P3": p3, "P2": p2}, name="encoder")
    inputs = keras.Input((None, None, 3))
    levels = encoder(inputs)
    up = layers.UpSampling2D(2, name="up")(levels["P3"])
    merged = layers.Concatenate(name="merge")([levels["P2"], up])
    outputs = layers.Conv2D(2, 1, name="head")(merged)
    return keras.Model(inputs, outputs, name="feature_pyramid")


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


def deeplab_v3(keras: Any) -> Any:
    """keras-hub's DeepLabV3 backbone on a small ResNet encoder: atrous spatial pyramid pooling on the
    stride-8 features, upsampled x4 and concatenated with the stride-2 features, upsampled x2. A
    keras-hub Backbone saves as its own class (its constructor's arguments, not its layers): the
    same graph as a plain Functional model is what a `.keras` file can describe."""
    import keras_hub

    encoder = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 16, 16],
        stackwise_num_blocks=[1, 1, 1],
        stackwise_num_strides=[1, 2, 2],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=(None, None, 3),
    )
    backbone = keras_hub.models.DeepLabV3Backbone(
        image_encoder=encoder,
        spatial_pyramid_pooling_key="P4",
        low_level_feature_key="P2",
        upsampling_size=4,
        dilation_rates=[2, 4],
        projection_filters=8,
    )
    return keras.Model(backbone.inputs, backbone.outputs, name="deeplab_v3")


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
    Case("feature_pyramid", "written here", feature_pyramid),
    Case("vae_encoder", "keras.io description", vae_encoder, (28, 28), tuple(range(1, 41)), channels=1),
    Case("espcn", "keras.io description", espcn, channels=1, opaque=("depth_to_space",)),
]
LIBRARIES = [
    # keras-hub's SpatialPyramidPooling (its pooled branch resized back to its input) read from its
    # config by keras_library.spatial_pyramid_pooling.
    Case("DeepLabV3", "keras-hub 0.32.0", deeplab_v3, sweep=THIN, library="keras_hub"),
]
CASES = APPLICATIONS + EXAMPLES + LIBRARIES

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
    # The file formats Keras can save the model in.
    formats: tuple[str, ...] = (".keras", ".h5")
    channels_first: bool = False

    def available(self) -> bool:
        import importlib.util

        return importlib.util.find_spec(self.library) is not None

    def shape(self, h: int, w: int) -> tuple[int, ...]:
        """The input shape of spatial size h x w, in the model's layout."""
        return (1, self.channels, h, w) if self.channels_first else (1, h, w, self.channels)

    @property
    def spatial_axes(self) -> tuple[int, int]:
        return (2, 3) if self.channels_first else (1, 2)

    def base_shape(self) -> tuple[int, ...]:
        return self.shape(*self.base)

    def shapes(self) -> list[tuple[int, ...]]:
        """Both spatial axes swept, the other held at the base size."""
        h, w = self.base
        tall = [self.shape(s, w) for s in self.sweep]
        wide = [self.shape(h, s) for s in self.sweep if s != h]
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

    backbone = _deeplab_backbone(keras_hub)
    return keras.Model(backbone.inputs, backbone.outputs, name="deeplab_v3")


def _deeplab_backbone(keras_hub: Any, **options: Any) -> Any:
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
    return keras_hub.models.DeepLabV3Backbone(
        image_encoder=encoder,
        spatial_pyramid_pooling_key="P4",
        low_level_feature_key="P2",
        upsampling_size=4,
        dilation_rates=[2, 4],
        projection_filters=8,
        **options,
    )


def keras_ops(keras: Any) -> Any:
    """Keras operations called on a Functional model's tensors (saved as nodes of their own, read by
    NumPy's rules), and resizing to a fixed size: reflect and constant pads, transposes, a reshape
    with the batch axis, ops.image.resize and the Resizing layer, a concatenate and an add."""
    layers, ops = keras.layers, keras.ops
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(4, 3, name="conv")(inputs)
    padded = ops.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="reflect")
    first = ops.transpose(ops.transpose(padded, (0, 3, 1, 2)), (0, 2, 3, 1))
    resized = ops.image.resize(first, (16, 12))
    fixed = layers.Resizing(16, 12, name="resizing")(x)
    merged = ops.add(ops.concatenate([resized, fixed], axis=-1), fixed[..., :1])
    flat = ops.reshape(merged, (-1, 16 * 12, 8))
    shifted = ops.pad(x, [[0, 0], [1, 0], [0, 3], [0, 0]])
    strided = layers.Conv2D(2, 3, strides=2, name="strided")(shifted)
    return keras.Model(inputs, [flat, strided], name="keras_ops")


def scaled_residual(keras: Any) -> Any:
    """InceptionResNetV2's residual merge, Keras' own CustomScaleLayer (shortcut + scale x branch), on
    a branch that halves and doubles its size (odd sizes then disagree at the merge)."""
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    layers = keras.layers
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    branch = layers.Conv2D(8, 3, strides=2, padding="same", name="down")(x)
    branch = layers.UpSampling2D(2, name="up")(branch)
    outputs = CustomScaleLayer(scale=0.17, name="scaled_add")([x, branch])
    return keras.Model(inputs, outputs, name="scaled_residual")


def pyramid_channels_first(keras: Any) -> Any:
    """keras-hub's SpatialPyramidPooling made under Keras' channels_first image format (the layer takes
    it from the global setting and saves none), between a stride-2 stem and an upsampling
    concatenated with the input (odd sizes then disagree)."""
    from keras_hub.src.models.deeplab_v3.deeplab_v3_layers import SpatialPyramidPooling

    before = keras.config.image_data_format()
    keras.config.set_image_data_format("channels_first")
    try:
        layers = keras.layers
        inputs = keras.Input((3, None, None))
        x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
        x = SpatialPyramidPooling(dilation_rates=[2, 3], num_channels=4, name="pyramid")(x)
        x = layers.UpSampling2D(2, name="up")(x)
        outputs = layers.Concatenate(axis=1, name="merge")([x, inputs])
        return keras.Model(inputs, outputs, name="pyramid_channels_first")
    finally:
        keras.config.set_image_data_format(before)


def ops_channels_first(keras: Any) -> Any:
    """A channels_first model whose first layers carry no layout (Rescaling, keras.ops.pad): the
    input's spatial axes are those of the convolution after them."""
    layers = keras.layers
    inputs = keras.Input((3, None, None))
    x = layers.Rescaling(1 / 255, name="scale")(inputs)
    x = keras.ops.pad(x, [[0, 0], [0, 0], [1, 1], [0, 2]])
    outputs = layers.Conv2D(4, 5, strides=2, data_format="channels_first", name="conv")(x)
    return keras.Model(inputs, outputs, name="ops_channels_first")


def _hub(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A keras-hub model as the plain Functional model of its graph (a keras-hub class saves its
    constructor's arguments, not its layers)."""

    def functional(keras: Any) -> Any:
        import keras_hub

        model = build(keras_hub)
        return keras.Model(model.inputs, model.outputs, name=model.name)

    return functional


def hub_resnet_v2(hub: Any) -> Any:
    return hub.models.ResNetBackbone(
        input_conv_filters=[16],
        input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 16, 16],
        stackwise_num_blocks=[1, 1, 1],
        stackwise_num_strides=[1, 2, 2],
        block_type="bottleneck_block",
        use_pre_activation=True,
    )


def hub_cspdarknet(hub: Any) -> Any:
    return hub.models.CSPNetBackbone(
        stem_filters=8,
        stem_kernel_size=3,
        stem_strides=1,
        stackwise_depth=[1, 1, 1],
        stackwise_strides=[1, 2, 2],
        stackwise_num_filters=[8, 16, 32],
        block_type="dark_block",
        stage_type="dark",
    )


def hub_efficientnet(hub: Any) -> Any:
    return hub.models.EfficientNetBackbone(
        stackwise_kernel_sizes=[3, 3, 5],
        stackwise_num_repeats=[1, 1, 1],
        stackwise_input_filters=[8, 8, 16],
        stackwise_output_filters=[8, 16, 24],
        stackwise_expansion_ratios=[1, 4, 6],
        stackwise_squeeze_and_excite_ratios=[0.0, 0.25, 0.25],
        stackwise_strides=[1, 2, 2],
        stackwise_block_types=["fused", "unfused", "v1"],
        stackwise_force_input_filters=[0, 0, 0],
        stackwise_nores_option=[False, False, False],
        stackwise_width_coefficients=[1.0, 1.0, 1.0],
        stackwise_depth_coefficients=[1.0, 1.0, 1.0],
    )


def _mit(hub: Any) -> Any:
    return hub.models.MiTBackbone(
        layerwise_depths=[1, 1],
        num_layers=2,
        layerwise_num_heads=[1, 2],
        layerwise_sr_ratios=[2, 1],
        max_drop_path_rate=0.0,
        layerwise_patch_sizes=[7, 3],
        layerwise_strides=[4, 2],
        hidden_dims=[8, 16],
        image_shape=(64, 64, 3),  # MiT's attention reshapes need static sizes
    )


def hub_segformer(hub: Any) -> Any:
    return hub.models.SegFormerBackbone(image_encoder=_mit(hub), projection_filters=8)


def hub_vgg(hub: Any) -> Any:
    return hub.models.VGGBackbone(stackwise_num_repeats=[1, 2], stackwise_num_filters=[4, 8])


def hub_densenet(hub: Any) -> Any:
    return hub.models.DenseNetBackbone(stackwise_num_repeats=[1, 2], growth_rate=4)


def hub_mobilenet(hub: Any) -> Any:
    return hub.models.MobileNetBackbone(
        stackwise_expansion=[[16, 24], [48, 48]],
        stackwise_num_blocks=[2, 2],
        stackwise_num_filters=[[8, 8], [16, 16]],
        stackwise_kernel_size=[[3, 3], [5, 5]],
        stackwise_num_strides=[[2, 1], [2, 1]],
        stackwise_se_ratio=[[None, None], [0.25, 0.25]],
        stackwise_activation=[["relu", "relu"], ["hard_swish", "hard_swish"]],
        stackwise_padding=[[1, 1], [2, 2]],
        output_num_filters=32,
        depthwise_filters=8,
        depthwise_stride=2,
        depthwise_residual=False,
        last_layer_filter=32,
        input_num_filters=8,
    )


def hub_deeplab_segmenter(hub: Any) -> Any:
    """keras-hub's image segmenter: the DeepLabV3 backbone above and its per-pixel head."""
    backbone = _deeplab_backbone(hub, name="deeplab_backbone")
    return hub.models.DeepLabV3ImageSegmenter(backbone=backbone, num_classes=2)


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
    Case("keras_ops", "written here", keras_ops),
    Case("scaled_residual", "written here", scaled_residual),
    Case("ops_channels_first", "written here", ops_channels_first, channels_first=True),
    Case("vae_encoder", "keras.io description", vae_encoder, (28, 28), tuple(range(1, 41)), channels=1),
    Case("espcn", "keras.io description", espcn, channels=1, opaque=("depth_to_space",)),
]
LIBRARIES = [
    # keras-hub's SpatialPyramidPooling (its pooled branch resized back to its input) read from its
    # config by keras_library.spatial_pyramid_pooling.
    Case("DeepLabV3", "keras-hub 0.32.0", deeplab_v3, sweep=THIN, library="keras_hub"),
    Case(
        "pyramid_channels_first",
        "keras-hub 0.32.0 layer",
        pyramid_channels_first,
        library="keras_hub",
        channels_first=True,
    ),
]
# Models inspect's reader was not written against (written by others, random weights, tiny configs).
UNSEEN = [
    # NASNetMobile refuses the torch backend in Keras 3.15; Keras 3.15 has no RegNet.
    Case(
        "InceptionResNetV2",
        "keras.applications",
        _application("InceptionResNetV2"),
        base=(80, 80),
        sweep=THIN,
    ),
    Case("ResNet101", "keras.applications", _application("ResNet101"), sweep=THIN),
    Case("MobileNetV3Large", "keras.applications", _application("MobileNetV3Large"), sweep=THIN),
    Case("EfficientNetV2S", "keras.applications", _application("EfficientNetV2S"), sweep=THIN),
    Case("ConvNeXtSmall", "keras.applications", _application("ConvNeXtSmall"), sweep=THIN),
    *(
        Case(name, "keras-hub 0.32.0", _hub(build), sweep=THIN, library="keras_hub", opaque=opaque)
        for name, build, opaque in (
            ("hub_ResNetV2", hub_resnet_v2, ()),
            ("hub_CSPDarkNet", hub_cspdarknet, ()),
            ("hub_EfficientNet", hub_efficientnet, ()),
            # MiT's patch embedding and transformer encoder are keras-hub layers not modelled (yet).
            ("hub_SegFormer", hub_segformer, ("patch_and_embed_0",)),
            ("hub_MiT", _mit, ("patch_and_embed_0",)),
            ("hub_VGG", hub_vgg, ()),
            ("hub_DenseNet", hub_densenet, ()),
            ("hub_MobileNet", hub_mobilenet, ()),
        )
    ),
    # A keras-hub task saves its Backbone as the Backbone's constructor arguments; its `.h5` saving
    # fails in keras-hub's SpatialPyramidPooling.build (a list plus a tuple).
    Case(
        "hub_DeepLabV3Segmenter",
        "keras-hub 0.32.0",
        _hub(hub_deeplab_segmenter),
        sweep=THIN,
        library="keras_hub",
        opaque=("deeplab_backbone",),
        formats=(".keras",),
    ),
]
CASES = APPLICATIONS + EXAMPLES + LIBRARIES + UNSEEN

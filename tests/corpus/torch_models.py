"""Real third-party model definitions with tiny configurations and random weights (never downloaded
weights), and a few of convcalc's own, for the PyTorch route of `convcalc inspect`.

Each entry is a zero-argument factory (as `convcalc inspect file.py:factory` calls it) with the input
sizes it is swept over. A library is imported only inside its factories: ``available`` says whether
it is installed, so a test skips a missing library cleanly.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

SQUARE = (16, 17, 24, 31, 32, 33, 40, 48, 63, 64)


@dataclass(frozen=True)
class Case:
    """One model: its factory, the library it needs, the batch and channels and the spatial sizes."""

    name: str
    make: Callable[[], nn.Module]
    library: str | None
    lead: tuple[int, ...]
    sizes: tuple[tuple[int, ...], ...]

    def shapes(self) -> list[tuple[int, ...]]:
        return [(*self.lead, *s) for s in self.sizes]

    def available(self) -> bool:
        """Whether the library imports (smp needs timm, which needs torchvision: installed but broken
        beside a CPU torch counts as missing)."""
        if self.library is None:
            return True
        if importlib.util.find_spec(self.library) is None:
            return False
        try:
            importlib.import_module(self.library)
        except Exception:
            return False
        return True


def _square(*extra: tuple[int, int]) -> tuple[tuple[int, ...], ...]:
    return tuple((s, s) for s in SQUARE) + extra


# -- convcalc's own: need only torch -----------------------------------------------------------------


class CodecDecoder(nn.Module):
    """A 1-D audio decoder as codecs write them: transposed convolutions that upsample by 2, 4 and 5,
    each followed by a residual unit, and the padding of a stride-3 convolution computed from the
    length in forward so that its frames cover the input (the "extra padding" of streaming codecs):
    0, 1 or 2 samples as the length runs through its residues mod 3."""

    def __init__(self) -> None:
        super().__init__()
        self.pre = nn.Conv1d(8, 16, 7, padding=3)
        self.ups = nn.ModuleList(
            nn.ConvTranspose1d(16, 16, 2 * s, stride=s, padding=s // 2 + s % 2, output_padding=s % 2)
            for s in (2, 4, 5)
        )
        self.res = nn.ModuleList(nn.Conv1d(16, 16, 3, padding=1) for _ in range(3))
        self.down = nn.Conv1d(16, 16, 4, stride=3)
        self.post = nn.Conv1d(16, 1, 7, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pre(x)
        for up, res in zip(self.ups, self.res):
            y = up(F.elu(y))
            y = y + res(F.elu(y))
        length = y.shape[-1]
        frames = -(-(length - 4) // 3) + 1  # ceil: every sample in some frame
        extra = (frames - 1) * 3 + 4 - length
        y = self.down(F.pad(y, (0, extra), mode="reflect"))
        return torch.tanh(self.post(y))


def codec_decoder() -> nn.Module:
    return CodecDecoder()


def bare_transposed() -> nn.Module:
    return nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)


class Reused(nn.Module):
    """One pooling module called three times and one convolution twice: each call is its own layer."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.stem = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(self.stem(x))
        y = self.pool(self.conv(y))
        return self.pool(self.conv(y))


def reused() -> nn.Module:
    return Reused()


class SkipDict(nn.Module):
    """Control flow torch.fx cannot follow: an ``isinstance`` check on the skip (false for an fx
    proxy, as in MONAI's BasicUNet), a size test that pads an odd decoder map, and a dict output."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.up = nn.ConvTranspose2d(4, 4, 2, stride=2)
        self.head = nn.Conv2d(7, 2, 1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        y = self.up(torch.relu(self.down(x)))
        skip: Any = x
        if skip is not None and isinstance(skip, torch.Tensor):
            if y.shape[-1] != skip.shape[-1] or y.shape[-2] != skip.shape[-2]:
                y = y[..., : skip.shape[-2], : skip.shape[-1]]
            y = torch.cat([skip, y], dim=1)
        return {"logits": self.head(y), "features": y}


def skip_dict() -> nn.Module:
    return SkipDict()


# -- MONAI ---------------------------------------------------------------------------------------------


def monai_unet() -> nn.Module:
    from monai.networks.nets import UNet

    return UNet(
        spatial_dims=2, in_channels=1, out_channels=2, channels=(4, 8, 16), strides=(2, 2), num_res_units=1
    )


def monai_basic_unet() -> nn.Module:
    from monai.networks.nets import BasicUNet

    return BasicUNet(spatial_dims=2, in_channels=1, out_channels=2, features=(4, 4, 8, 8, 16, 4))


def monai_dyn_unet() -> nn.Module:
    from monai.networks.nets import DynUNet

    return DynUNet(
        spatial_dims=2,
        in_channels=1,
        out_channels=2,
        kernel_size=[3, 3, 3],
        strides=[1, 2, 2],
        upsample_kernel_size=[2, 2],
        filters=[4, 8, 16],
    )


def monai_seg_res_net() -> nn.Module:
    from monai.networks.nets import SegResNet

    return SegResNet(
        spatial_dims=2,
        init_filters=4,
        in_channels=1,
        out_channels=2,
        blocks_down=(1, 1, 1),
        blocks_up=(1, 1),
        norm=("GROUP", {"num_groups": 2}),
    )


def monai_auto_encoder() -> nn.Module:
    from monai.networks.nets import AutoEncoder

    return AutoEncoder(spatial_dims=2, in_channels=1, out_channels=1, channels=(4, 8), strides=(2, 2))


class _First(nn.Module):
    """A model that returns a tuple or an output object: the part a user inspects."""

    def __init__(self, model: nn.Module, pick: Callable[[Any], torch.Tensor]) -> None:
        super().__init__()
        self.model = model
        self.pick = pick

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pick(self.model(x))


def monai_var_auto_encoder() -> nn.Module:
    from monai.networks.nets import VarAutoEncoder

    model = VarAutoEncoder(
        spatial_dims=2, in_shape=(1, 32, 32), out_channels=1, latent_size=4, channels=(4, 8), strides=(2, 2)
    )
    return _First(model, lambda out: out[0])


def monai_attention_unet() -> nn.Module:
    """Attention gates (a sigmoid map multiplies the skip) and transposed convolutions up."""
    from monai.networks.nets import AttentionUnet

    return AttentionUnet(spatial_dims=2, in_channels=1, out_channels=2, channels=(4, 8, 16), strides=(2, 2))


def monai_unetr() -> nn.Module:
    """A ViT encoder on 16x16 patches: its patch grid is fixed by ``img_size`` (one size runs)."""
    from monai.networks.nets import UNETR

    return UNETR(
        in_channels=1,
        out_channels=2,
        img_size=(32, 32),
        feature_size=4,
        hidden_size=32,
        mlp_dim=64,
        num_heads=2,
        spatial_dims=2,
    )


def monai_swin_unetr() -> nn.Module:
    """Swin transformer encoder (windows padded to their size in forward) and a convolutional decoder."""
    from monai.networks.nets import SwinUNETR

    return SwinUNETR(
        in_channels=1,
        out_channels=2,
        depths=(1, 1, 1, 1),
        num_heads=(1, 1, 1, 1),
        window_size=4,
        feature_size=12,
        spatial_dims=2,
    )


def monai_flexible_unet() -> nn.Module:
    """An EfficientNet-B0 encoder (no pretrained weights) under a U-Net decoder that pads odd skips."""
    from monai.networks.nets import FlexibleUNet

    return FlexibleUNet(
        in_channels=1, out_channels=2, backbone="efficientnet-b0", decoder_channels=(16, 8, 8, 4, 4)
    )


def monai_high_res_net() -> nn.Module:
    """Dilated residual blocks at full resolution, channels matched by padding."""
    from monai.networks.nets import HighResNet

    return HighResNet(
        spatial_dims=2,
        in_channels=1,
        out_channels=2,
        layer_params=(
            {"name": "conv_0", "n_features": 4, "kernel_size": 3},
            {"name": "res_1", "n_features": 4, "kernels": (3, 3), "repeat": 1},
            {"name": "res_2", "n_features": 8, "kernels": (3, 3), "repeat": 1},
            {"name": "res_3", "n_features": 8, "kernels": (3, 3), "repeat": 1},
            {"name": "conv_1", "n_features": 8, "kernel_size": 1},
            {"name": "conv_2", "kernel_size": 1},
        ),
    )


def monai_ahnet() -> nn.Module:
    """A 2-D AHNet: ResNet encoder, pyramid pooling and transposed convolutions up."""
    from monai.networks.nets import AHNet

    return AHNet(layers=(1, 1, 1, 1), spatial_dims=2, in_channels=1, out_channels=2, psp_block_num=2)


# -- diffusers -----------------------------------------------------------------------------------------


class _Denoiser(nn.Module):
    """UNet2DModel at one timestep: forward(x) as inspect reads it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, 10).sample


def diffusers_unet() -> nn.Module:
    from diffusers import UNet2DModel

    model = UNet2DModel(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 16),
        layers_per_block=1,
        norm_num_groups=4,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=4,
    )
    return _Denoiser(model)


def diffusers_autoencoder_kl() -> nn.Module:
    from diffusers import AutoencoderKL

    model = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        latent_channels=2,
        norm_num_groups=4,
    )
    return _First(model, lambda out: out.sample)


def _oobleck() -> nn.Module:
    from diffusers import AutoencoderOobleck

    return AutoencoderOobleck(
        encoder_hidden_size=4,
        downsampling_ratios=[2, 4],
        channel_multiples=[1, 2],
        decoder_channels=4,
        decoder_input_channels=2,
        audio_channels=2,
    )


def diffusers_oobleck() -> nn.Module:
    """Stable Audio's 1-D VAE: strided Conv1d down, ConvTranspose1d up, Snake activations, weight_norm."""
    return _First(_oobleck(), lambda out: out.sample)


def diffusers_oobleck_decoder() -> nn.Module:
    """Its decoder alone: a 1-D ConvTranspose1d decoder from latents, as codec decoders are."""
    return _oobleck().decoder


class _Timestep(nn.Module):
    """A diffusers denoiser at one timestep (and, for a conditional one, fixed text states of batch 1):
    forward(x) as inspect reads it, the ``.sample`` of its output."""

    def __init__(self, model: nn.Module, states: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.model = model
        self.states = states

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.states is None:
            return self.model(x, 10).sample
        context = torch.zeros(x.shape[0], *self.states, device=x.device)
        return self.model(x, 10, encoder_hidden_states=context).sample


def diffusers_unet_1d() -> nn.Module:
    """Dance Diffusion's 1-D U-Net: Fourier timestep features tiled over the length, resampling by a
    fixed kernel (padded reflect), 1-D attention, interpolation back."""
    from diffusers import UNet1DModel

    return _Timestep(
        UNet1DModel(
            sample_size=64,
            in_channels=2,
            out_channels=2,
            extra_in_channels=64,  # the Fourier features of the timestep: 2 x 32
            block_out_channels=(32, 32, 32),  # its attention has channels // 32 heads
            norm_num_groups=4,
            time_embedding_type="fourier",
            flip_sin_to_cos=True,
            use_timestep_embedding=False,
        )
    )


def diffusers_unet_2d_condition() -> nn.Module:
    """Stable Diffusion's U-Net, tiny: cross-attention on fixed text states of 3 tokens."""
    from diffusers import UNet2DConditionModel

    model = UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        block_out_channels=(8, 16),
        layers_per_block=1,
        norm_num_groups=4,
        cross_attention_dim=8,
        attention_head_dim=2,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
    )
    return _Timestep(model, (3, 8))


def diffusers_vq_model() -> nn.Module:
    """VQ-GAN: the encoder, a nearest-codebook lookup (argmin over distances), the decoder."""
    from diffusers import VQModel

    model = VQModel(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(8, 16),
        layers_per_block=1,
        latent_channels=2,
        num_vq_embeddings=16,
        norm_num_groups=4,
    )
    return _First(model, lambda out: out.sample)


def diffusers_autoencoder_tiny() -> nn.Module:
    """TAESD: stride-2 convolutions down by 8, nearest upsampling back, a tanh clamp between."""
    from diffusers import AutoencoderTiny

    model = AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
        latent_channels=4,
    )
    return _First(model, lambda out: out.sample)


# -- nnU-Net's dynamic-network-architectures ------------------------------------------------------


def _dna(residual: bool, dims: int, deep_supervision: bool = False) -> nn.Module:
    from dynamic_network_architectures.architectures.unet import PlainConvUNet, ResidualEncoderUNet

    conv = nn.Conv2d if dims == 2 else nn.Conv3d
    norm = nn.InstanceNorm2d if dims == 2 else nn.InstanceNorm3d
    common: dict[str, Any] = {
        "input_channels": 1,
        "n_stages": 3,
        "features_per_stage": (4, 8, 16),
        "conv_op": conv,
        "kernel_sizes": 3,
        "strides": (1, 2, 2),
        "num_classes": 2,
        "n_conv_per_stage_decoder": 1,
        "conv_bias": True,
        "norm_op": norm,
        "norm_op_kwargs": {"affine": True},
        "nonlin": nn.LeakyReLU,
        "nonlin_kwargs": {"inplace": True},
        "deep_supervision": deep_supervision,
    }
    if residual:
        return ResidualEncoderUNet(n_blocks_per_stage=(1, 1, 2), **common)
    return PlainConvUNet(n_conv_per_stage=2, **common)


def nnunet_plain_2d() -> nn.Module:
    return _dna(False, 2)


def nnunet_plain_2d_deep_supervision() -> nn.Module:
    """Deep supervision: a list of outputs, one per decoder scale."""
    return _dna(False, 2, deep_supervision=True)


def nnunet_residual_2d() -> nn.Module:
    return _dna(True, 2)


def nnunet_plain_3d() -> nn.Module:
    return _dna(False, 3)


def nnunet_residual_3d() -> nn.Module:
    return _dna(True, 3)


# -- models the readers were not written against (issue 15, reach) --------------------------------


def monai_seg_res_net_vae() -> nn.Module:
    """SegResNet with a VAE branch: its latent is a Linear on the flattened deepest map, fixed by
    ``input_image_size`` (one size runs); the segmentation output is what a user inspects."""
    from monai.networks.nets import SegResNetVAE

    model = SegResNetVAE(
        input_image_size=(32, 32),
        vae_nz=8,
        spatial_dims=2,
        init_filters=4,
        in_channels=1,
        out_channels=2,
        blocks_down=(1, 1, 1),
        blocks_up=(1, 1),
        norm=("GROUP", {"num_groups": 2}),
    )
    return _First(model, lambda out: out[0])


def monai_seg_res_net_ds() -> nn.Module:
    """SegResNetDS: transposed convolutions up, deep supervision heads (a list of outputs)."""
    from monai.networks.nets import SegResNetDS

    return SegResNetDS(
        spatial_dims=2, init_filters=4, in_channels=1, out_channels=2, blocks_down=(1, 1, 1), dsdepth=2
    )


def monai_basic_unet_plus_plus() -> nn.Module:
    """UNet++: nested skip paths (each decoder node concatenates every earlier node of its level)."""
    from monai.networks.nets import BasicUNetPlusPlus

    model = BasicUNetPlusPlus(spatial_dims=2, in_channels=1, out_channels=2, features=(4, 4, 8, 8, 16, 4))
    return _First(model, lambda out: out[0])


def monai_vit_auto_enc() -> nn.Module:
    """A ViT on 4x4 patches of a fixed 16x16 grid, transposed convolutions back to the image."""
    from monai.networks.nets import ViTAutoEnc

    model = ViTAutoEnc(
        in_channels=1,
        img_size=(16, 16),
        patch_size=4,
        out_channels=1,
        deconv_chns=4,
        hidden_size=16,
        mlp_dim=32,
        num_layers=1,
        num_heads=2,
        spatial_dims=2,
    )
    return _First(model, lambda out: out[0])


class _Latent(nn.Module):
    """A generator's input as a map: the latent vector is the flattened (B, C, L) input."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x.flatten(1))


def monai_generator() -> nn.Module:
    """A GAN generator: a Linear to a fixed start shape, transposed convolutions up (one size runs)."""
    from monai.networks.nets import Generator

    return _Latent(Generator(latent_shape=(8,), start_shape=(4, 4, 4), channels=(8, 4, 1), strides=(2, 2, 1)))


def monai_regressor() -> nn.Module:
    """A regressor: strided residual units down, a Linear on the fixed flattened map."""
    from monai.networks.nets import Regressor

    return Regressor(in_shape=(1, 16, 16), out_shape=(3,), channels=(4, 8), strides=(2, 2))


def monai_dense_net_121() -> nn.Module:
    """DenseNet-121's topology with tiny growth: dense concatenation, average pooling transitions."""
    from monai.networks.nets import DenseNet

    return DenseNet(
        spatial_dims=2, in_channels=1, out_channels=3, init_features=8, growth_rate=4, block_config=(2, 2, 2)
    )


def monai_res_net() -> nn.Module:
    """A 2-D ResNet-10 (basic blocks, stride-2 shortcuts) with adaptive pooling and a head."""
    from monai.networks.nets import ResNet

    return ResNet("basic", [1, 1, 1, 1], [4, 8, 8, 16], spatial_dims=2, n_input_channels=1, num_classes=3)


def monai_efficient_net() -> nn.Module:
    """EfficientNet-B0 (random weights): depthwise convolutions with 'same' padding computed per size,
    squeeze-and-excitation, an adaptive pooling head."""
    from monai.networks.nets import EfficientNetBN

    return EfficientNetBN("efficientnet-b0", pretrained=False, spatial_dims=2, in_channels=1, num_classes=3)


def monai_hover_net() -> nn.Module:
    """HoVerNet (fast mode): a pre-activation ResNet-50 encoder with valid convolutions, three decoder
    branches that crop their skips: a dict of outputs."""
    from monai.networks.nets import HoVerNet

    return HoVerNet(mode="fast", in_channels=3, np_out_channels=2, out_classes=0)


def monai_med_next() -> nn.Module:
    """MedNeXt: ConvNeXt-style blocks (depthwise 7x7, GroupNorm per channel), transposed up."""
    from monai.networks.nets import MedNeXt

    return MedNeXt(
        spatial_dims=2,
        init_filters=4,
        in_channels=1,
        out_channels=2,
        kernel_size=3,
        blocks_down=(1, 1, 1),
        blocks_bottleneck=1,
        blocks_up=(1, 1, 1),
    )


def monai_vnet() -> nn.Module:
    """VNet (3-D): strided convolutions down with residual adds, transposed up and concatenation."""
    from monai.networks.nets import VNet

    return VNet(spatial_dims=3, in_channels=1, out_channels=2)


def monai_dints() -> nn.Module:
    """DiNTS: a searched topology (TopologyInstance) of cells at four resolutions."""
    from monai.networks.nets import DiNTS, TopologyInstance

    space = TopologyInstance(
        channel_mul=0.25, num_blocks=2, num_depths=3, spatial_dims=2, use_downsample=True
    )
    return DiNTS(space, in_channels=1, num_classes=2, spatial_dims=2, use_downsample=True)


def diffusers_control_net() -> nn.Module:
    """ControlNet: a conditioning embedding (stride-2 convolutions from the full-resolution hint),
    the U-Net encoder, zero convolutions: the mid-block residual is its output."""
    from diffusers import ControlNetModel

    model = ControlNetModel(
        in_channels=4,
        conditioning_channels=3,
        block_out_channels=(8, 16),
        layers_per_block=1,
        norm_num_groups=4,
        cross_attention_dim=8,
        attention_head_dim=2,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        conditioning_embedding_out_channels=(4, 8, 8, 8),
    )
    return _ControlNet(model)


class _ControlNet(nn.Module):
    """A ControlNet at one timestep: the latent is x, the hint is x upsampled by 8 (what the
    conditioning embedding brings down by 8), fixed text states of 3 tokens."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hint = F.interpolate(x[:, :3], scale_factor=8.0, mode="nearest")
        context = torch.zeros(x.shape[0], 3, 8, device=x.device)
        out = self.model(x, 10, encoder_hidden_states=context, controlnet_cond=hint, return_dict=False)
        return out[1]


def diffusers_temporal_decoder() -> nn.Module:
    """Stable Video Diffusion's VAE: a 2-D encoder, a decoder with temporal convolutions over the
    frames (the batch holds num_frames frames)."""
    from diffusers import AutoencoderKLTemporalDecoder

    model = AutoencoderKLTemporalDecoder(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        block_out_channels=(32, 32),  # its decoder's GroupNorm has 32 groups
        layers_per_block=1,
        latent_channels=2,
    )
    return _Frames(model)


class _Frames(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, num_frames=x.shape[0]).sample


def diffusers_asymmetric_autoencoder() -> nn.Module:
    """AsymmetricAutoencoderKL: its decoder also reads the (masked) image at full resolution."""
    from diffusers import AsymmetricAutoencoderKL

    model = AsymmetricAutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        down_block_out_channels=(8, 16),
        layers_per_down_block=1,
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        up_block_out_channels=(8, 16),
        layers_per_up_block=1,
        latent_channels=2,
        norm_num_groups=4,
    )
    return _First(model, lambda out: out.sample)


def diffusers_autoencoder_dc() -> nn.Module:
    """Deep-compression autoencoder (Sana): pixel-unshuffle down with channel-averaging shortcuts,
    linear attention, pixel-shuffle up."""
    from diffusers import AutoencoderDC

    model = AutoencoderDC(
        in_channels=3,
        latent_channels=4,
        attention_head_dim=4,
        encoder_block_types=("ResBlock", "EfficientViTBlock"),
        decoder_block_types=("ResBlock", "EfficientViTBlock"),
        encoder_block_out_channels=(8, 16),
        decoder_block_out_channels=(8, 16),
        encoder_layers_per_block=(1, 1),
        decoder_layers_per_block=(1, 1),
        encoder_qkv_multiscales=((), (5,)),
        decoder_qkv_multiscales=((), (5,)),
        upsample_block_type="pixel_shuffle",
        downsample_block_type="pixel_unshuffle",
        decoder_norm_types="rms_norm",
        decoder_act_fns="silu",
    )
    return _First(model, lambda out: out.sample)


def diffusers_unet_skip_blocks() -> nn.Module:
    """UNet2DModel with NCSN++'s block kinds: SkipDownBlock2D / AttnSkipUpBlock2D (the image carried
    alongside the features, resampled by a FIR kernel)."""
    from diffusers import UNet2DModel

    model = UNet2DModel(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(32, 32, 32),  # the skip blocks' GroupNorm has min(channels // 4, 32) groups
        layers_per_block=1,
        norm_num_groups=4,
        down_block_types=("SkipDownBlock2D", "AttnSkipDownBlock2D", "SkipDownBlock2D"),
        up_block_types=("SkipUpBlock2D", "AttnSkipUpBlock2D", "SkipUpBlock2D"),
        attention_head_dim=4,
    )
    return _Denoiser(model)


def diffusers_unet_attn_resnet() -> nn.Module:
    """UNet2DModel with ResnetDownsampleBlock2D / ResnetUpsampleBlock2D (a resnet that resamples),
    scale-shift time conditioning, no mid attention."""
    from diffusers import UNet2DModel

    model = UNet2DModel(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 16),
        layers_per_block=1,
        norm_num_groups=4,
        down_block_types=("AttnDownBlock2D", "ResnetDownsampleBlock2D"),
        up_block_types=("ResnetUpsampleBlock2D", "AttnUpBlock2D"),
        attention_head_dim=4,
        resnet_time_scale_shift="scale_shift",
        add_attention=False,
    )
    return _Denoiser(model)


def diffusers_consistency_decoder() -> nn.Module:
    """ConsistencyDecoderVAE's encoder and its UNet decoder at one step."""
    from diffusers import ConsistencyDecoderVAE

    model = ConsistencyDecoderVAE(
        encoder_block_out_channels=(8, 16),
        encoder_down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        encoder_layers_per_block=1,
        encoder_norm_num_groups=4,
        latent_channels=4,
        decoder_block_out_channels=(8, 16),
        decoder_down_block_types=("ResnetDownsampleBlock2D", "ResnetDownsampleBlock2D"),
        decoder_up_block_types=("ResnetUpsampleBlock2D", "ResnetUpsampleBlock2D"),
        decoder_layers_per_block=1,
        decoder_norm_num_groups=4,
        decoder_in_channels=7,
        decoder_out_channels=6,
    )
    return _First(model, lambda out: out.sample)


# -- transformers' audio codecs (installed --no-deps) ---------------------------------------------


def _encodec() -> nn.Module:
    from transformers import EncodecConfig, EncodecModel

    config = EncodecConfig(
        audio_channels=1,
        num_filters=4,
        hidden_size=8,
        upsampling_ratios=[4, 2],
        num_residual_layers=1,
        num_lstm_layers=1,
        codebook_size=16,
        codebook_dim=8,
        target_bandwidths=[1.5],
        sampling_rate=800,
    )
    return EncodecModel(config)


def transformers_encodec_decoder() -> nn.Module:
    """EnCodec's decoder: an LSTM over the frames, transposed convolutions up by 2 and 4 with the
    causal/asymmetric padding of its streaming convolutions computed from the length."""
    return _encodec().decoder


def transformers_encodec() -> nn.Module:
    """EnCodec end to end: the encoder's padding computed so that frames cover the input, residual
    vector quantisation, the decoder; the output is trimmed to the input length."""
    return _First(_encodec(), lambda out: out.audio_values)


def _dac() -> nn.Module:
    from transformers import DacConfig, DacModel

    config = DacConfig(
        encoder_hidden_size=4,
        downsampling_ratios=[2, 4],
        decoder_hidden_size=16,
        upsampling_ratios=[4, 2],
        n_codebooks=2,
        codebook_size=16,
        codebook_dim=4,
        hidden_size=8,
    )
    return DacModel(config)


def transformers_dac_decoder() -> nn.Module:
    """DAC's decoder: Snake activations, transposed convolutions up, residual units whose output is
    cropped (centre) to the shorter length before the add."""
    return _dac().decoder


# -- segmentation_models_pytorch ---------------------------------------------------------------------


def smp_unet() -> nn.Module:
    import segmentation_models_pytorch as smp

    return smp.Unet("resnet18", encoder_weights=None, encoder_depth=3, decoder_channels=(16, 8, 4), classes=2)


def smp_fpn() -> nn.Module:
    import segmentation_models_pytorch as smp

    return smp.FPN("resnet18", encoder_weights=None, encoder_depth=3, classes=2)


def smp_unet_plus_plus() -> nn.Module:
    import segmentation_models_pytorch as smp

    return smp.UnetPlusPlus(
        "resnet18", encoder_weights=None, encoder_depth=3, decoder_channels=(16, 8, 4), classes=2
    )


CUBES = ((4, 4, 4), (7, 8, 8), (8, 8, 8), (9, 9, 9), (12, 16, 20), (16, 16, 16), (17, 16, 15))
LENGTHS = tuple((n,) for n in (1, 2, 7, 8, 9, 15, 16, 33, 100))
HOVER = ((240, 240), (255, 256), (256, 256), (256, 255))

CASES = (
    Case("codec_decoder", codec_decoder, None, (1, 8), LENGTHS),
    Case("bare_transposed", bare_transposed, None, (1, 3), _square((5, 9))),
    Case("reused", reused, None, (1, 3), _square((8, 12), (9, 9))),
    Case("skip_dict", skip_dict, None, (1, 3), _square((9, 8), (15, 16))),
    Case("monai.UNet", monai_unet, "monai", (1, 1), _square((32, 48))),
    Case("monai.BasicUNet", monai_basic_unet, "monai", (1, 1), _square((32, 48), (33, 32))),
    Case("monai.DynUNet", monai_dyn_unet, "monai", (1, 1), _square((32, 48))),
    Case("monai.SegResNet", monai_seg_res_net, "monai", (1, 1), _square((32, 48))),
    Case("monai.AutoEncoder", monai_auto_encoder, "monai", (1, 1), _square((32, 48))),
    Case("monai.VarAutoEncoder", monai_var_auto_encoder, "monai", (1, 1), _square((32, 48))),
    Case("monai.AttentionUnet", monai_attention_unet, "monai", (1, 1), _square((32, 48))),
    Case("monai.UNETR", monai_unetr, "monai", (1, 1), _square((32, 48))),
    Case("monai.SwinUNETR", monai_swin_unetr, "monai", (1, 1), _square((32, 48))),
    Case("monai.FlexibleUNet", monai_flexible_unet, "monai", (1, 1), _square((32, 48))),
    Case("monai.HighResNet", monai_high_res_net, "monai", (1, 1), _square((32, 48))),
    Case("monai.AHNet", monai_ahnet, "monai", (1, 1), _square((32, 48))),
    Case("diffusers.UNet2DModel", diffusers_unet, "diffusers", (1, 3), _square((32, 48))),
    Case("diffusers.AutoencoderKL", diffusers_autoencoder_kl, "diffusers", (1, 3), _square((32, 48))),
    Case("diffusers.AutoencoderOobleck", diffusers_oobleck, "diffusers", (1, 2), (*LENGTHS, (64,), (65,))),
    Case("diffusers.OobleckDecoder", diffusers_oobleck_decoder, "diffusers", (1, 2), LENGTHS),
    Case("diffusers.UNet1DModel", diffusers_unet_1d, "diffusers", (1, 2), (*LENGTHS, (64,), (128,), (130,))),
    Case("diffusers.UNet2DCondition", diffusers_unet_2d_condition, "diffusers", (1, 4), _square((16, 24))),
    Case("diffusers.VQModel", diffusers_vq_model, "diffusers", (1, 3), _square((32, 48))),
    Case("diffusers.AutoencoderTiny", diffusers_autoencoder_tiny, "diffusers", (1, 3), _square((32, 48))),
    Case(
        "nnunet.PlainConvUNet2d", nnunet_plain_2d, "dynamic_network_architectures", (1, 1), _square((32, 48))
    ),
    Case(
        "nnunet.PlainConvUNet2dDS",
        nnunet_plain_2d_deep_supervision,
        "dynamic_network_architectures",
        (1, 1),
        _square((32, 48)),
    ),
    Case(
        "nnunet.ResEncUNet2d", nnunet_residual_2d, "dynamic_network_architectures", (1, 1), _square((32, 48))
    ),
    Case("nnunet.PlainConvUNet3d", nnunet_plain_3d, "dynamic_network_architectures", (1, 1), CUBES),
    Case("nnunet.ResEncUNet3d", nnunet_residual_3d, "dynamic_network_architectures", (1, 1), CUBES),
    Case("monai.SegResNetVAE", monai_seg_res_net_vae, "monai", (1, 1), _square((32, 48))),
    Case("monai.SegResNetDS", monai_seg_res_net_ds, "monai", (1, 1), _square((32, 48))),
    Case("monai.BasicUNetPlusPlus", monai_basic_unet_plus_plus, "monai", (1, 1), _square((32, 48))),
    Case("monai.ViTAutoEnc", monai_vit_auto_enc, "monai", (1, 1), _square((16, 24))),
    Case("monai.Generator", monai_generator, "monai", (1, 8), ((1,), (2,), (4,))),
    Case("monai.Regressor", monai_regressor, "monai", (1, 1), _square((16, 24))),
    Case("monai.DenseNet", monai_dense_net_121, "monai", (1, 1), _square((32, 48))),
    Case("monai.ResNet", monai_res_net, "monai", (1, 1), _square((32, 48))),
    Case("monai.EfficientNetBN", monai_efficient_net, "monai", (1, 1), _square((32, 48))),
    Case("monai.HoVerNet", monai_hover_net, "monai", (1, 3), HOVER),
    Case("monai.MedNeXt", monai_med_next, "monai", (1, 1), _square((32, 48))),
    Case("monai.VNet", monai_vnet, "monai", (1, 1), CUBES),
    Case("monai.DiNTS", monai_dints, "monai", (1, 1), _square((32, 48))),
    Case("diffusers.ControlNet", diffusers_control_net, "diffusers", (1, 4), _square((16, 24))),
    Case("diffusers.TemporalDecoder", diffusers_temporal_decoder, "diffusers", (2, 3), _square((32, 48))),
    Case("diffusers.AsymmetricKL", diffusers_asymmetric_autoencoder, "diffusers", (1, 3), _square((32, 48))),
    Case("diffusers.AutoencoderDC", diffusers_autoencoder_dc, "diffusers", (1, 3), _square((32, 48))),
    Case("diffusers.UNet2DSkip", diffusers_unet_skip_blocks, "diffusers", (1, 3), _square((32, 48))),
    Case("diffusers.UNet2DResnetSample", diffusers_unet_attn_resnet, "diffusers", (1, 3), _square((32, 48))),
    Case("diffusers.ConsistencyVAE", diffusers_consistency_decoder, "diffusers", (1, 3), _square((32, 48))),
    Case("transformers.EncodecDecoder", transformers_encodec_decoder, "transformers", (1, 8), LENGTHS),
    Case("transformers.Encodec", transformers_encodec, "transformers", (1, 1), (*LENGTHS, (64,), (320,))),
    Case("transformers.DacDecoder", transformers_dac_decoder, "transformers", (1, 8), LENGTHS),
    Case("smp.Unet", smp_unet, "segmentation_models_pytorch", (1, 3), _square((32, 64))),
    Case("smp.FPN", smp_fpn, "segmentation_models_pytorch", (1, 3), _square((32, 64))),
    Case("smp.UnetPlusPlus", smp_unet_plus_plus, "segmentation_models_pytorch", (1, 3), _square((32, 64))),
)

"""pyannote's PyanNet segmentation network as an ONNX graph, built from its checkpoint without PyTorch.

The network (waveform instance norm → SincNet: 80 parametric sinc band-pass filters, 251 taps, stride 10, then two
5-tap convolutions, each followed by 3x max-pooling, instance norm and leaky ReLU → 4-layer bidirectional LSTM →
two linear layers → sigmoid over 3 speaker classes) uses only standard ONNX operators. The sinc filterbank is
computed once from its learned cut-off frequencies (as ``asteroid_filterbanks.ParamSincFB.filters`` does) and
frozen into a plain convolution; LSTM gates are reordered from PyTorch's (i, f, g, o) to ONNX's (i, o, f, c).
"""

from __future__ import annotations

from typing import Any

import numpy as np

OPSET = 17
SAMPLE_RATE = 16000
MIN_LOW_HZ = 50.0
MIN_BAND_HZ = 50.0
LEAKY_SLOPE = 0.01
NORM_EPSILON = 1e-5
_TORCH_TO_ONNX_GATES = (0, 3, 1, 2)


def sinc_filters(state: dict[str, np.ndarray], prefix: str = "sincnet.conv1d.0.filterbank.") -> np.ndarray:
    """The (80, 1, 251) sinc band-pass filterbank the checkpoint's learned cut-offs describe."""
    low = MIN_LOW_HZ + np.abs(state[prefix + "low_hz_"].astype(np.float64))
    high = np.clip(
        low + MIN_BAND_HZ + np.abs(state[prefix + "band_hz_"].astype(np.float64)), MIN_LOW_HZ, SAMPLE_RATE / 2
    )
    window = state[prefix + "window_"].astype(np.float64)
    n = state[prefix + "n_"].astype(np.float64)
    band = (high - low)[:, 0]
    ft_low, ft_high = low @ n, high @ n
    cos_left = (np.sin(ft_high) - np.sin(ft_low)) / (n / 2) * window
    sin_left = (np.cos(ft_low) - np.cos(ft_high)) / (n / 2) * window
    cos = np.concatenate([cos_left, 2 * band[:, None], cos_left[:, ::-1]], axis=1)
    sin = np.concatenate([sin_left, np.zeros_like(band)[:, None], -sin_left[:, ::-1]], axis=1)
    filters = np.concatenate([cos, sin], axis=0) / (2 * np.concatenate([band, band])[:, None])
    return np.asarray(filters[:, None, :], dtype=np.float32)


def _lstm_weights(state: dict[str, np.ndarray], layer: int, hidden: int) -> tuple[np.ndarray, ...]:
    def reorder(matrix: np.ndarray) -> np.ndarray:
        gates = np.split(matrix, 4, axis=0)
        return np.concatenate([gates[i] for i in _TORCH_TO_ONNX_GATES], axis=0)

    directions = ("", "_reverse")
    w = np.stack([reorder(state[f"lstm.weight_ih_l{layer}{d}"]) for d in directions])
    r = np.stack([reorder(state[f"lstm.weight_hh_l{layer}{d}"]) for d in directions])
    b = np.stack(
        [
            np.concatenate([reorder(state[f"lstm.bias_ih_l{layer}{d}"]), reorder(state[f"lstm.bias_hh_l{layer}{d}"])])
            for d in directions
        ]
    )
    assert w.shape[1] == 4 * hidden
    return w, r, b


def build_pyannet_onnx(state: dict[str, np.ndarray], hyper_parameters: dict[str, Any]) -> bytes:
    """Serialize the network described by a PyanNet checkpoint as an ONNX model.

    Args:
        state: the checkpoint's ``state_dict`` as numpy arrays.
        hyper_parameters: its ``hyper_parameters`` (LSTM size and depth, linear layers, SincNet stride).

    Returns:
        The ONNX model: input ``waveforms`` (batch, 1, samples) at 16 kHz, output ``scores`` (batch, frames,
        classes) in [0, 1].

    Raises:
        KeyError: the state lacks a tensor the architecture needs.
        ValueError: the checkpoint describes a variant this builder does not handle.
    """
    from onnx import TensorProto, helper, numpy_helper

    lstm = hyper_parameters.get("lstm", {})
    hidden = int(lstm.get("hidden_size", 128))
    if not (lstm.get("bidirectional", True) and lstm.get("monolithic", True) and lstm.get("batch_first", True)):
        raise ValueError("only monolithic, bidirectional, batch-first PyanNet LSTMs are supported")
    layers = int(lstm.get("num_layers", 4))
    linear_layers = int(hyper_parameters.get("linear", {}).get("num_layers", 2))
    stride = int(hyper_parameters.get("sincnet", {}).get("stride", 10))

    initializers: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def norm(x: str, prefix: str, out: str) -> str:
        return node(
            "InstanceNormalization",
            [
                x,
                constant(prefix + ".weight", state[prefix + ".weight"]),
                constant(prefix + ".bias", state[prefix + ".bias"]),
            ],
            out,
            epsilon=NORM_EPSILON,
        )

    x = norm("waveforms", "sincnet.wav_norm1d", "wav_norm")
    convolutions = [
        ("sincnet.conv1d.0", [constant("sinc_filters", sinc_filters(state))], stride),
        (
            "sincnet.conv1d.1",
            [
                constant("conv1.w", state["sincnet.conv1d.1.weight"]),
                constant("conv1.b", state["sincnet.conv1d.1.bias"]),
            ],
            1,
        ),
        (
            "sincnet.conv1d.2",
            [
                constant("conv2.w", state["sincnet.conv1d.2.weight"]),
                constant("conv2.b", state["sincnet.conv1d.2.bias"]),
            ],
            1,
        ),
    ]
    for index, (_name, params, conv_stride) in enumerate(convolutions):
        x = node("Conv", [x, *params], f"conv{index}", strides=[conv_stride])
        if index == 0:
            x = node("Abs", [x], "sinc_abs")
        x = node("MaxPool", [x], f"pool{index}", kernel_shape=[3], strides=[3])
        x = norm(x, f"sincnet.norm1d.{index}", f"norm{index}")
        x = node("LeakyRelu", [x], f"sinc_act{index}", alpha=LEAKY_SLOPE)

    x = node("Transpose", [x], "time_major", perm=[2, 0, 1])
    merge_shape = constant("merge_directions", np.array([0, 0, 2 * hidden], dtype=np.int64))
    for layer in range(layers):
        w, r, b = _lstm_weights(state, layer, hidden)
        params = [constant(f"lstm{layer}.{k}", v) for k, v in (("w", w), ("r", r), ("b", b))]
        y = node("LSTM", [x, *params], f"lstm{layer}", direction="bidirectional", hidden_size=hidden)
        y = node("Transpose", [y], f"lstm{layer}.t", perm=[0, 2, 1, 3])
        x = node("Reshape", [y, merge_shape], f"lstm{layer}.out")
    x = node("Transpose", [x], "batch_major", perm=[1, 0, 2])
    for index in range(linear_layers):
        prefix = f"linear.{index}"
        x = node("MatMul", [x, constant(prefix + ".wt", state[prefix + ".weight"].T)], f"{prefix}.mm")
        x = node("Add", [x, constant(prefix + ".b", state[prefix + ".bias"])], f"{prefix}.add")
        x = node("LeakyRelu", [x], f"{prefix}.act", alpha=LEAKY_SLOPE)
    x = node("MatMul", [x, constant("classifier.wt", state["classifier.weight"].T)], "classifier.mm")
    x = node("Add", [x, constant("classifier.b", state["classifier.bias"])], "logits")
    node("Sigmoid", [x], "scores")

    classes = int(state["classifier.weight"].shape[0])
    graph = helper.make_graph(
        nodes,
        "pyannet",
        [helper.make_tensor_value_info("waveforms", TensorProto.FLOAT, ["batch", 1, "samples"])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", "frames", classes])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="audio-api")
    model.ir_version = 8
    return bytes(model.SerializeToString())

"""Log-mel features as the bundled d-vector embedder was trained on them (librosa's Slaney mel filterbank,
periodic Hamming window, no centre padding, power spectrum, log10), computed with numpy alone."""

from __future__ import annotations

from functools import cache

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 512
WIN_LENGTH = 400
HOP_LENGTH = 160
N_MELS = 40
LOG_FLOOR = 1e-10


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    linear = hz / (200.0 / 3)
    log_region = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_region, linear)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    linear = mel * (200.0 / 3)
    log_region = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_region, linear)


@cache
def mel_filterbank(sample_rate: int = SAMPLE_RATE, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, n_fft // 2 + 1) Slaney-normalised triangular filters, as ``librosa.filters.mel`` makes them."""
    fft_freqs = np.linspace(0, sample_rate / 2, 1 + n_fft // 2)
    mel_freqs = _mel_to_hz(np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(sample_rate / 2)), n_mels + 2))
    spacing = np.diff(mel_freqs)
    ramps = np.subtract.outer(mel_freqs, fft_freqs)
    lower = -ramps[:-2] / spacing[:-1, None]
    upper = ramps[2:] / spacing[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2:] - mel_freqs[:-2]))[:, None]
    return np.asarray(weights, dtype=np.float32)


@cache
def _window() -> np.ndarray:
    periodic = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(WIN_LENGTH) / WIN_LENGTH)
    pad = (N_FFT - WIN_LENGTH) // 2
    return np.pad(periodic, (pad, N_FFT - WIN_LENGTH - pad)).astype(np.float32)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """(frames, 40) log10 mel power of a 16 kHz signal, one frame every 10 ms (none for audio under 32 ms)."""
    signal = np.ascontiguousarray(audio, dtype=np.float32)
    frames = 1 + (signal.size - N_FFT) // HOP_LENGTH if signal.size >= N_FFT else 0
    if frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    strided = np.lib.stride_tricks.as_strided(
        signal, shape=(frames, N_FFT), strides=(signal.strides[0] * HOP_LENGTH, signal.strides[0])
    )
    power = np.abs(np.fft.rfft(strided * _window(), axis=1)) ** 2
    return np.asarray(np.log10(power.astype(np.float32) @ mel_filterbank().T + LOG_FLOOR), dtype=np.float32)

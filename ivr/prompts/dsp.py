"""Turning speech into telephone audio, with numpy only.

Every prompt, synthesised or recorded, goes through `condition`: mono
float -> DC removed -> resampled with an anti-alias low-pass -> leading and
trailing silence trimmed -> peak-normalised -> 16-bit PCM.
"""

from __future__ import annotations

from math import gcd

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float64]
Pcm = npt.NDArray[np.int16]

TARGET_PEAK_DBFS = -3.0
ROLL_OFF = (0.85, 0.98)  # pass band ends / stop band starts, as fractions of the lower Nyquist
EDGE_PAD_SECONDS = 0.05  # zeros around the signal so the FFT does not wrap speech around
TRIM_FLOOR_DB = -40.0  # a 10 ms frame this far below the loudest frame counts as silence
TRIM_MARGIN_SECONDS = 0.03
FADE_SECONDS = 0.005


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def gain_to_db(gain: float) -> float:
    return float(20.0 * np.log10(max(gain, 1e-12)))


def decode_frames(frames: bytes, sample_width: int, channels: int) -> Samples:
    """WAV frames (8-bit unsigned or 16-bit signed PCM) as floats in [-1, 1), (n, channels)."""
    if sample_width == 1:
        ints = np.frombuffer(frames, dtype=np.uint8).astype(np.float64) - 128.0
        scale = 128.0
    elif sample_width == 2:
        ints = np.frombuffer(frames, dtype="<i2").astype(np.float64)
        scale = 32768.0
    else:
        raise ValueError(f"{sample_width * 8}-bit samples are not supported")
    usable = len(ints) - len(ints) % channels
    return (ints[:usable] / scale).reshape(-1, channels)


def float_to_pcm(samples: Samples) -> Pcm:
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def silence(rate: int, seconds: float) -> Pcm:
    return np.zeros(round(rate * seconds), dtype=np.int16)


TONE_LEVEL_DB = -10.0
TONE_RAMP_SECONDS = 0.01


def tone(frequency: float, seconds: float, rate: int) -> Pcm:
    """A sine beep at a comfortable level, ramped in and out so it does not click."""
    count = round(rate * seconds)
    wave = np.sin(2 * np.pi * frequency * np.arange(count) / rate) * db_to_gain(TONE_LEVEL_DB)
    ramp = min(count // 2, round(rate * TONE_RAMP_SECONDS))
    if ramp:
        envelope = np.linspace(0.0, 1.0, ramp)
        wave[:ramp] *= envelope
        wave[-ramp:] *= envelope[::-1]
    return float_to_pcm(wave)


def resample(samples: Samples, src_rate: int, dst_rate: int) -> Samples:
    """Band-limited resampling in the frequency domain.

    The spectrum is cut at the lower of the two Nyquist frequencies with a
    raised-cosine roll-off (ROLL_OFF), so nothing above 4 kHz folds back
    into a telephone channel and the cut does not ring.
    """
    if src_rate == dst_rate:
        return samples.astype(np.float64, copy=True)
    if len(samples) == 0:
        return np.zeros(0)
    divisor = gcd(src_rate, dst_rate)
    up, down = dst_rate // divisor, src_rate // divisor
    pad = round(src_rate * EDGE_PAD_SECONDS)
    n_in = len(samples) + 2 * pad
    n_in += -n_in % down  # so that the output length is a whole number of samples
    n_out = n_in * up // down
    padded = np.zeros(n_in)
    padded[pad : pad + len(samples)] = samples

    spectrum = np.fft.rfft(padded)
    freqs = np.fft.rfftfreq(n_in, 1.0 / src_rate)
    nyquist = min(src_rate, dst_rate) / 2.0
    start, stop = ROLL_OFF[0] * nyquist, ROLL_OFF[1] * nyquist
    gain = np.clip((stop - freqs) / (stop - start), 0.0, 1.0)
    gain = 0.5 - 0.5 * np.cos(np.pi * gain)  # raised cosine from 1 (start) to 0 (stop)

    bins = n_out // 2 + 1
    out = np.zeros(bins, dtype=np.complex128)
    keep = min(bins, len(spectrum))
    out[:keep] = spectrum[:keep] * gain[:keep]
    resampled = np.fft.irfft(out, n_out) * (n_out / n_in)
    first = round(pad * dst_rate / src_rate)
    return resampled[first : first + round(len(samples) * dst_rate / src_rate)]


def frame_rms(samples: Samples, rate: int, seconds: float = 0.01) -> Samples:
    size = max(1, round(rate * seconds))
    frames = len(samples) // size
    if frames == 0:
        return np.sqrt(np.mean(samples**2, keepdims=True)) if len(samples) else np.zeros(0)
    blocks = samples[: frames * size].reshape(frames, size)
    return np.sqrt(np.mean(blocks**2, axis=1))


def trim_silence(samples: Samples, rate: int) -> Samples:
    """Cut silence before the first and after the last sound, keeping a short margin."""
    energy = frame_rms(samples, rate)
    if len(energy) == 0 or energy.max() <= 0.0:
        return samples[:0]
    voiced = np.flatnonzero(energy > energy.max() * db_to_gain(TRIM_FLOOR_DB))
    size = max(1, round(rate * 0.01))
    margin = round(rate * TRIM_MARGIN_SECONDS)
    begin = max(0, int(voiced[0]) * size - margin)
    end = min(len(samples), (int(voiced[-1]) + 1) * size + margin)
    trimmed = samples[begin:end].copy()
    fade = min(len(trimmed) // 2, round(rate * FADE_SECONDS))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, endpoint=False)
        trimmed[:fade] *= ramp
        trimmed[-fade:] *= ramp[::-1]
    return trimmed


def normalise(samples: Samples, peak: float) -> Samples:
    """Scale so that the largest sample is `peak` (a gain, 1.0 is full scale)."""
    largest = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if largest <= 0.0:
        return samples
    return samples * (peak / largest)


def condition(samples: Samples, src_rate: int, dst_rate: int, peak: float) -> Pcm:
    """The whole pipeline: mono floats at `src_rate` -> trimmed, normalised PCM at `dst_rate`."""
    mono = samples - np.mean(samples) if len(samples) else samples
    resampled = resample(mono, src_rate, dst_rate)
    return float_to_pcm(normalise(trim_silence(resampled, dst_rate), peak))

#!/usr/bin/env python3
"""Offline generator of packages/eval/fixtures/reference-values.json (docs/evaluation.md §6.3).

Run once with NumPy/SciPy; CI never needs Python. Inputs come from the 32-bit LCG of docs/evaluation.md §6.3, so the
TypeScript tests rebuild bit-identical feature matrices. FID follows ADM/pytorch-fid exactly (np.cov,
scipy.linalg.sqrtm of the product, eps retry, imaginary check); IS, precision/recall and KID follow the
ADM evaluator / torch-fidelity formulas in float64.

Also writes small .npz fixtures with numpy's own writer (np.savez and np.savez_compressed).
"""
import json
import os
import sys

import numpy as np
import scipy
from scipy import linalg

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'fixtures')


def lcg(seed, n):
    state = seed & 0xFFFFFFFF
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        state = (1664525 * state + 1013904223) & 0xFFFFFFFF
        out[i] = state / 4294967296.0
    return out


def lcg_matrix(seed, rows, cols):
    return lcg(seed, rows * cols).reshape(rows, cols)


def mix(x):
    # column j + 0.5 * column (j+1 mod d) + 0.1
    return x + 0.5 * np.roll(x, -1, axis=1) + 0.1


def frechet_adm(mu1, sigma1, mu2, sigma2, eps=1e-6):
    diff = mu1 - mu2
    # `disp` is deprecated in SciPy 1.16 and removed in 1.18; the default call is equivalent here
    old = tuple(int(v) for v in scipy.__version__.split('.')[:2]) < (1, 16)
    covmean = linalg.sqrtm(sigma1.dot(sigma2), disp=False)[0] if old else linalg.sqrtm(sigma1.dot(sigma2))
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError('imaginary component')
        covmean = covmean.real
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_eigh(mu1, sigma1, mu2, sigma2):
    w, u = np.linalg.eigh(sigma1)
    s = (u * np.sqrt(np.clip(w, 0, None))) @ u.T
    m = s @ sigma2 @ s
    m = (m + m.T) / 2
    lam = np.clip(np.linalg.eigvalsh(m), 0, None)
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.sqrt(lam).sum())


def fid_case(name, seed1, n1, seed2, n2, d):
    x1 = lcg_matrix(seed1, n1, d)
    x2 = mix(lcg_matrix(seed2, n2, d))
    mu1, s1 = x1.mean(0), np.cov(x1, rowvar=False)
    mu2, s2 = x2.mean(0), np.cov(x2, rowvar=False)
    return {
        'name': name, 'seed1': seed1, 'n1': n1, 'seed2': seed2, 'n2': n2, 'd': d,
        'fid_scipy': frechet_adm(mu1, s1, mu2, s2),
        'fid_eigh': frechet_eigh(mu1, s1, mu2, s2),
        'trace_sigma1': float(np.trace(s1)), 'trace_sigma2': float(np.trace(s2)),
        'mu1_head': mu1[:4].tolist(), 'sigma1_head': s1[0, :4].tolist(),
    }


def log_softmax(x):
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def inception_score_adm(logits, split_size):
    scores = []
    for i in range(0, len(logits), split_size):
        lp = log_softmax(logits[i:i + split_size])
        p = np.exp(lp)
        pg = p.mean(0, keepdims=True)
        kl = (p * (lp - np.log(pg))).sum(1).mean()
        scores.append(float(np.exp(kl)))
    return scores


def pr_naive(real, fake, k=3):
    def radii(x):
        d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        return np.sort(d, axis=1)[:, k]
    rr, rf = radii(real), radii(fake)
    dfr = ((fake[:, None, :] - real[None, :, :]) ** 2).sum(-1)
    precision = float((dfr <= rr[None, :]).any(axis=1).mean())
    recall = float((dfr.T <= rf[None, :]).any(axis=1).mean())
    return precision, recall


def kid_full(x, y):
    d = x.shape[1]
    m = x.shape[0]
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    return float((kxx.sum() - np.trace(kxx) + kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / (m * m))


def main():
    os.makedirs(OUT, exist_ok=True)
    out = {
        'generator': 'packages/eval/scripts/make-reference-fixtures.py',
        'numpy': np.__version__, 'scipy': scipy.__version__, 'python': sys.version.split()[0],
        'lcg_seed1_head': lcg(1, 3).tolist(),
        'fid': [
            fid_case('d16', 1, 400, 2, 300, 16),
            fid_case('d64', 3, 500, 4, 300, 64),
            fid_case('d256', 5, 1200, 6, 900, 256),
            fid_case('d64-rank-deficient', 7, 40, 8, 50, 64),
        ],
    }
    logits = (lcg_matrix(11, 250, 10) - 0.5) * 8
    out['inception'] = {'seed': 11, 'rows': 250, 'classes': 10, 'transform': '(u - 0.5) * 8',
                        'split_size': 100, 'split_scores': inception_score_adm(logits, 100)}
    real = lcg_matrix(12, 200, 8)
    fake = mix(lcg_matrix(13, 150, 8)) * 0.8
    p, r = pr_naive(real, fake)
    out['precision_recall'] = {'real_seed': 12, 'real_rows': 200, 'fake_seed': 13, 'fake_rows': 150, 'dim': 8,
                               'fake_transform': 'mix * 0.8', 'k': 3, 'precision': p, 'recall': r}
    kx = lcg_matrix(14, 120, 16)
    ky = mix(lcg_matrix(15, 120, 16)) * 0.5
    out['kid'] = {'x_seed': 14, 'y_seed': 15, 'rows': 120, 'dim': 16, 'y_transform': 'mix * 0.5', 'mmd2_unbiased': kid_full(kx, ky)}
    with open(os.path.join(OUT, 'reference-values.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')

    # numpy-written npz fixtures (ADM layout, tiny)
    mu = lcg(21, 4)
    xs = lcg_matrix(22, 10, 4)
    sigma = np.cov(xs, rowvar=False)
    imgs = (lcg(23, 3 * 5 * 4 * 3) * 256).astype(np.uint8).reshape(3, 5, 4, 3)
    labels = np.arange(3, dtype=np.int64)
    mu_s = lcg(24, 2).astype(np.float32)
    sigma_s = np.eye(2, dtype=np.float32)
    np.savez(os.path.join(OUT, 'numpy-savez.npz'), arr_0=imgs, arr_1=labels, mu=mu, sigma=sigma, mu_s=mu_s, sigma_s=sigma_s)
    np.savez_compressed(os.path.join(OUT, 'numpy-savez-compressed.npz'), arr_0=imgs, arr_1=labels, mu=mu, sigma=sigma)
    np.save(os.path.join(OUT, 'fortran.npy'), np.asfortranarray(np.arange(6, dtype='<f8').reshape(2, 3)))
    np.save(os.path.join(OUT, 'big-endian.npy'), np.arange(3, dtype='>f4'))


if __name__ == '__main__':
    main()

"""Fraction of active (ReLU > 0) hidden units in each class's dynamic head, for a kit run's final weights
on the first patches of its trace: 0.00 means a dead head (its class gets no gradient below the last
layer). Usage: /usr/bin/python3 bench/head-activity.py <twin out dir> [classes, e.g. 1,2,3,6]"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import twin  # noqa: E402


def main():
    tr = sys.argv[1]
    classes = [int(c) for c in (sys.argv[2] if len(sys.argv) > 2 else "1,2,3,6,7,8,11,16").split(",")]
    meta = json.load(open(tr + "/trace.json"))
    cfg = meta["config"]
    emb = torch.tensor(json.load(open(meta["embedding"]))["embedding"], dtype=torch.float32)
    roi = cfg["roi"]
    imgs = np.fromfile(tr + "/images.bin", dtype="<f4").reshape(-1, roi[2], roi[1], roi[0])
    m = twin.UniversalUNet(cfg["model"]["widths"], emb)
    twin.load_kit_weights(m, tr, "final")
    x = torch.from_numpy(imgs[:8].copy())[:, None]
    hc = cfg["model"]["headChannels"]
    with torch.no_grad():
        feat, text, dec = m.head_inputs(x)
        out = {}
        for c in classes:
            a1, a2 = [], []
            for bi in range(x.shape[0]):
                p = m.controller(torch.cat([feat[bi:bi + 1], text[c - 1:c]], 1)[:, :, None, None, None]).flatten(1)[0]
                w1, w2 = p[:hc * hc].view(hc, hc), p[hc * hc:2 * hc * hc].view(hc, hc)
                o = 2 * hc * hc + hc
                b1, b2 = p[o:o + hc], p[o + hc:o + 2 * hc]
                xv = dec[bi].flatten(1).t()
                y1 = F.relu(xv @ w1.t() + b1)
                y2 = F.relu(y1 @ w2.t() + b2)
                a1.append((y1 > 0).float().mean().item())
                a2.append((y2 > 0).float().mean().item())
            out[c] = {"layer1": round(float(np.mean(a1)), 3), "layer2": round(float(np.mean(a2)), 3)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

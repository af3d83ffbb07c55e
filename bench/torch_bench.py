"""PyTorch reference for `npm run bench` (CPU) and scripts/gpu-check.sh (CUDA): the same networks and
training step as bench/*.ts.

Prints one JSON line: {"net": ..., "ms": [per-step times], "threads": n, "torch": version, "device": ...}.
On CUDA every timed step ends with torch.cuda.synchronize().
Usage: python3 bench/torch_bench.py --net narrow|mini|paper --steps N --threads 2 [--device cuda]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_relu(cin, cout):
    return nn.Sequential(nn.Conv3d(cin, cout, 3, padding=1), nn.ReLU(inplace=True))


class NarrowUNet(nn.Module):
    """widths 8-16-32, two 3x3x3 conv+ReLU per level, transposed-conv up path, 8 outputs."""

    def __init__(self):
        super().__init__()
        self.d0 = nn.Sequential(conv_relu(1, 8), conv_relu(8, 8))
        self.d1 = nn.Sequential(conv_relu(8, 16), conv_relu(16, 16))
        self.d2 = nn.Sequential(conv_relu(16, 32), conv_relu(32, 32))
        self.t1 = nn.ConvTranspose3d(32, 16, 2, stride=2)
        self.u1 = nn.Sequential(conv_relu(32, 16), conv_relu(16, 16))
        self.t0 = nn.ConvTranspose3d(16, 8, 2, stride=2)
        self.u0 = nn.Sequential(conv_relu(16, 8), conv_relu(8, 8))
        self.out = nn.Conv3d(8, 8, 1)

    def forward(self, x):
        s0 = self.d0(x)
        s1 = self.d1(F.max_pool3d(s0, 2))
        b = self.d2(F.max_pool3d(s1, 2))
        u = self.u1(torch.cat([self.t1(b), s1], 1))
        u = self.u0(torch.cat([self.t0(u), s0], 1))
        return self.out(u)


class LUConv(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv3d(cin, cout, 3, padding=1), nn.BatchNorm3d(cout), nn.ReLU(inplace=True))


class UniversalUNet(nn.Module):
    """Models Genesis UNet3D backbone + Universal Model head, as src/model/universal-unet.ts."""

    def __init__(self, w, emb):
        super().__init__()
        w0, w1, w2, w3, w4 = w
        self.down = nn.ModuleList([
            nn.Sequential(LUConv(1, w0), LUConv(w0, w1)),
            nn.Sequential(LUConv(w1, w1), LUConv(w1, w2)),
            nn.Sequential(LUConv(w2, w2), LUConv(w2, w3)),
            nn.Sequential(LUConv(w3, w3), LUConv(w3, w4)),
        ])
        ups = [(w4, w3, w3), (w3, w2, w2), (w2, w1, w1)]
        self.t = nn.ModuleList([nn.ConvTranspose3d(c, c, 2, stride=2) for c, _, _ in ups])
        self.up = nn.ModuleList([nn.Sequential(LUConv(c + s, o), LUConv(o, o)) for c, s, o in ups])
        self.gap = nn.Sequential(nn.GroupNorm(16 if w4 % 16 == 0 else 1, w4), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Conv3d(w4, 256, 1))
        self.register_buffer("emb", emb)
        self.text = nn.Linear(512, 256)
        self.controller = nn.Conv3d(512, 153, 1)
        self.precls = nn.Sequential(nn.GroupNorm(16 if w1 % 16 == 0 else 1, w1), nn.ReLU(), nn.Conv3d(w1, 8, 1))

    def forward(self, x):
        skips = []
        h = x
        for i, blk in enumerate(self.down):
            h = blk(h)
            if i < 3:
                skips.append(h)
                h = F.max_pool3d(h, 2)
        bott = h
        for i in range(3):
            h = self.up[i](torch.cat([self.t[i](h), skips[2 - i]], 1))
        feat = self.gap(bott).flatten(1)  # [B, 256]
        text = F.relu(self.text(self.emb))  # [32, 256]
        dec = self.precls(h)  # [B, 8, D, H, W]
        B, _, D, H, W = dec.shape
        outs = []
        for b in range(B):
            cond = torch.cat([feat[b:b + 1].expand(32, -1), text], 1)[:, :, None, None, None]
            p = self.controller(cond).flatten(1)  # [32, 153]
            w1, w2, w3 = p[:, :64].view(32, 8, 8), p[:, 64:128].view(32, 8, 8), p[:, 128:136].view(32, 1, 8)
            b1, b2, b3 = p[:, 136:144], p[:, 144:152], p[:, 152:153]
            xv = dec[b].flatten(1).t()  # [V, 8]
            y = F.relu(torch.einsum("vi,coi->cvo", xv, w1) + b1[:, None, :])
            y = F.relu(torch.bmm(y, w2.transpose(1, 2)) + b2[:, None, :])
            y = torch.bmm(y, w3.transpose(1, 2)) + b3[:, None, :]
            outs.append(y.squeeze(2).view(32, D, H, W))
        return torch.stack(outs), feat


def dice_bce(logits, target):
    p = torch.sigmoid(logits)
    num = 2 * (p * target).sum((0, 2, 3, 4)) + 1e-5
    den = (p * p).sum((0, 2, 3, 4)) + (target * target).sum((0, 2, 3, 4)) + 1e-5
    return (1 - num / den).mean() + F.binary_cross_entropy_with_logits(logits, target)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--net", required=True, choices=["narrow", "mini", "paper"])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--roi", default="32,32,32", help="x,y,z")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--max-seconds", type=float, default=0, help="stop timing after this long (0: no limit)")
    a = ap.parse_args()
    dev = torch.device(a.device)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x_, y_, z_ = [int(v) for v in a.roi.split(",")]
    x = torch.rand(1, 1, z_, y_, x_, device=dev)
    if a.net == "narrow":
        model = NarrowUNet().to(dev)
        target = torch.rand(1, 8, z_, y_, x_, device=dev)
        loss_fn = lambda: F.mse_loss(model(x), target)
        opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    else:
        w = [4, 8, 16, 32, 64] if a.net == "mini" else [32, 64, 128, 256, 512]
        model = UniversalUNet(w, torch.randn(32, 512)).to(dev)
        target = (torch.rand(1, 32, z_, y_, x_, device=dev) > 0.9).float()
        loss_fn = lambda: dice_bce(model(x)[0], target)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-5)
    times = []
    start = time.perf_counter()
    for i in range(a.warmup + a.steps):
        sync()
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        sync()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
        if a.max_seconds and time.perf_counter() - start > a.max_seconds and times:
            break
    info = {"net": a.net, "ms": times, "threads": a.threads, "torch": torch.__version__, "device": str(dev),
            "params": sum(p.numel() for p in model.parameters())}
    if dev.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(dev)
    print(json.dumps(info))


if __name__ == "__main__":
    main()

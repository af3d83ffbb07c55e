"""PyTorch twin of the kit's training: the same network, loss, optimiser and schedule, trained on the
very patches the kit trained on, then evaluated on the same prepared test cases.

The kit writes a *trace* (bench/twin.ts, `npm run twin`): its initial weights, and for every step the
patch (image, label), the case's template organs and organ-ratio weights, the learning rate and the
kit's own loss. This script replays that trace in PyTorch (CPU) and writes per-step losses and the
per-class test Dice as JSON, so that "does the recipe learn" and "does our implementation learn" are
answered on the same data with the same crops, loss and schedule.

Usage: /usr/bin/python3 bench/twin.py --trace <dir> --data <prepared dir> --out <file.json>
         [--init kit|torch] [--dice squared|rows] [--eval-bn batch|running] [--blend logits|probs]
         [--threads 2] [--eval-every N]
Needs python3-torch and python3-nibabel (Debian).
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 32
TUMOR_IDS = set(range(26, 33))


def groups_for(c):
    """As the kit (src/model/layers.ts groupsFor): the largest divisor of c that is <= 16."""
    for g in range(min(16, c), 0, -1):
        if c % g == 0:
            return g
    return 1


class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, eval_bn):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm3d(cout, momentum=0.1, eps=1e-5)
        self.eval_bn = eval_bn

    def forward(self, x):
        y = self.conv(x)
        # "batch": batch statistics at inference too (the reference's ContBatchNorm3d).
        use_batch = self.training or self.eval_bn == "batch"
        y = F.batch_norm(y, self.bn.running_mean, self.bn.running_var, self.bn.weight, self.bn.bias,
                         use_batch, 0.1 if self.training else 0.0, 1e-5)
        return F.relu(y)


class UniversalUNet(nn.Module):
    """src/model/universal-unet.ts in PyTorch: NCDHW with D = z, H = y, W = x (the kit's NDHWC order)."""

    def __init__(self, widths, emb, feature_dim=256, head=8, eval_bn="batch", head_kind="dynamic"):
        super().__init__()
        self.head_kind = head_kind
        # "linear": a plain per-class 1x1x1 convolution on the decoder features (diagnostic, not the kit's).
        self.linear_head = nn.Conv3d(widths[1], NUM_CLASSES, 1) if head_kind == "linear" else None
        w0, w1, w2, w3, w4 = widths
        levels = [(1, w0, w1), (w1, w1, w2), (w2, w2, w3), (w3, w3, w4)]
        self.down = nn.ModuleList([nn.ModuleList([ConvBnRelu(a, b, eval_bn), ConvBnRelu(b, c, eval_bn)]) for a, b, c in levels])
        ups = [(w4, w3, w3), (w3, w2, w2), (w2, w1, w1)]
        self.t = nn.ModuleList([nn.ConvTranspose3d(c, c, 2, stride=2) for c, _, _ in ups])
        self.up = nn.ModuleList([nn.ModuleList([ConvBnRelu(c + s, o, eval_bn), ConvBnRelu(o, o, eval_bn)]) for c, s, o in ups])
        self.gap_gn = nn.GroupNorm(groups_for(w4), w4)
        self.gap = nn.Conv3d(w4, feature_dim, 1)
        self.register_buffer("emb", emb)
        self.text = nn.Linear(512, feature_dim)
        self.head = head
        self.n_params = 2 * head * head + head + head + head + 1
        self.controller = nn.Conv3d(2 * feature_dim, self.n_params, 1)
        self.precls_gn = nn.GroupNorm(groups_for(w1), w1)
        self.precls = nn.Conv3d(w1, head, 1)

    def backbone(self, x):
        """The U-Net: (decoder output [B, w1, D, H, W], bottleneck [B, w4, ...])."""
        skips = []
        h = x
        for i, (a, b) in enumerate(self.down):
            h = b(a(h))
            if i < 3:
                skips.append(h)
                h = F.max_pool3d(h, 2)
        bott = h
        for i in range(3):
            a, b = self.up[i]
            h = b(a(torch.cat([self.t[i](h), skips[2 - i]], 1)))
        return h, bott

    def head_inputs(self, x):
        """What the dynamic heads are made from: pooled feature [B, F], text [32, F], decoder features [B, 8, ...]."""
        h, bott = self.backbone(x)
        feat = self.gap(F.adaptive_avg_pool3d(F.relu(self.gap_gn(bott)), 1)).flatten(1)
        return feat, F.relu(self.text(self.emb)), self.precls(F.relu(self.precls_gn(h)))

    def forward(self, x, classes):
        if self.linear_head is not None:
            h, bott = self.backbone(x)
            feat = self.gap(F.adaptive_avg_pool3d(F.relu(self.gap_gn(bott)), 1)).flatten(1)
            idx = torch.tensor([k - 1 for k in classes])
            return self.linear_head(F.relu(self.precls_gn(h)))[:, idx], feat
        feat, text, dec = self.head_inputs(x)  # [B, F], [32, F], [B, 8, D, H, W]
        B, hc, D, H, W = dec.shape
        idx = torch.tensor([k - 1 for k in classes])
        outs = []
        for b in range(B):
            cond = torch.cat([feat[b:b + 1].expand(NUM_CLASSES, -1), text], 1)[:, :, None, None, None]
            p = self.controller(cond).flatten(1)[idx]  # [C, P]
            C = p.shape[0]
            o = 0

            def take(n):
                nonlocal o
                t = p[:, o:o + n]
                o += n
                return t

            w1 = take(hc * hc).view(C, hc, hc)
            w2 = take(hc * hc).view(C, hc, hc)
            w3 = take(hc).view(C, 1, hc)
            b1, b2, b3 = take(hc), take(hc), take(1)
            xv = dec[b].flatten(1).t()  # [V, h]
            y = F.relu(torch.einsum("vi,coi->cvo", xv, w1) + b1[:, None, :])
            y = F.relu(torch.bmm(y, w2.transpose(1, 2)) + b2[:, None, :])
            y = torch.bmm(y, w3.transpose(1, 2)) + b3[:, None, :]
            outs.append(y.squeeze(2).view(C, D, H, W))
        return torch.stack(outs), feat


def load_kit_weights(model, init_dir, name="init"):
    """The kit's weights (init or final; NDHWC filter layouts) into the PyTorch modules."""
    index = json.load(open(os.path.join(init_dir, name + ".json")))
    raw = np.fromfile(os.path.join(init_dir, name + ".bin"), dtype="<f4")
    arr = {e["name"]: raw[e["offset"]:e["offset"] + int(np.prod(e["shape"]))].reshape(e["shape"]) for e in index}
    used = set()

    def get(name):
        used.add(name)
        return torch.from_numpy(arr[name].copy())

    def conv_bn(mod, name, parts):
        if parts == 1:
            w = get(f"{name}.conv.w")
        else:
            w = torch.cat([get(f"{name}.conv.w{i}") for i in range(parts)], 3)
        mod.conv.weight.data.copy_(w.permute(4, 3, 0, 1, 2))  # [kd,kh,kw,in,out] -> [out,in,kd,kh,kw]
        mod.conv.bias.data.copy_(get(f"{name}.conv.b"))
        mod.bn.weight.data.copy_(get(f"{name}.bn.gamma"))
        mod.bn.bias.data.copy_(get(f"{name}.bn.beta"))
        mod.bn.running_mean.copy_(get(f"{name}.bn.runMean"))
        mod.bn.running_var.copy_(get(f"{name}.bn.runVar"))

    with torch.no_grad():
        for i in range(4):
            conv_bn(model.down[i][0], f"down{i}.a", 1)
            conv_bn(model.down[i][1], f"down{i}.b", 1)
        for i in range(3):
            # tfjs conv3dTranspose filter [kd,kh,kw,out,in] -> PyTorch [in,out,kd,kh,kw]
            model.t[i].weight.copy_(get(f"up{i}.t.w").permute(4, 3, 0, 1, 2))
            model.t[i].bias.copy_(get(f"up{i}.t.b"))
            conv_bn(model.up[i][0], f"up{i}.a", 2)
            conv_bn(model.up[i][1], f"up{i}.b", 1)
        model.gap_gn.weight.copy_(get("gap.gn.gamma"))
        model.gap_gn.bias.copy_(get("gap.gn.beta"))
        model.gap.weight.copy_(get("gap.w").t()[:, :, None, None, None])
        model.gap.bias.copy_(get("gap.b"))
        model.text.weight.copy_(get("text.w").t())
        model.text.bias.copy_(get("text.b"))
        model.controller.weight.copy_(get("controller.w").t()[:, :, None, None, None])
        model.controller.bias.copy_(get("controller.b"))
        model.precls_gn.weight.copy_(get("precls.gn.gamma"))
        model.precls_gn.bias.copy_(get("precls.gn.beta"))
        model.precls.weight.copy_(get("precls.w").t()[:, :, None, None, None])
        model.precls.bias.copy_(get("precls.b"))
    missing = set(arr) - used
    if missing:
        raise SystemExit(f"twin: kit parameters not mapped: {sorted(missing)}")


def case_loss(logits, target, weights, dice_form):
    """logits, target [T, D, H, W]; weights [T]. Returns (loss, weighted BCE term)."""
    T = logits.shape[0]
    p = torch.sigmoid(logits)
    if dice_form == "squared":  # the kit's form before the study: whole patch, squared denominators, smooth 1e-5
        pf, tf_ = p.flatten(1), target.flatten(1)
        dice = 1 - (2 * (pf * tf_).sum(1) + 1e-5) / ((pf * pf).sum(1) + (tf_ * tf_).sum(1) + 1e-5)
    else:  # the reference's BinaryDiceLoss: rows along the first spatial axis of the channel, smooth 1 below
        # The kit's tensors are [z, y, x]; the reference's channel is [X, Y, Z] (x first), so rows run along x.
        pr = p.permute(0, 3, 2, 1).flatten(2)  # [T, X, Y*Z]
        tr = target.permute(0, 3, 2, 1).flatten(2)
        dice = (1 - 2 * (pr * tr).sum(2) / (pr.sum(2) + tr.sum(2) + 1)).mean(1)
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).mean(1)
    w = torch.tensor(weights, dtype=torch.float32)
    bce_term = (w * bce).sum() / T
    return (w * dice).sum() / T + bce_term, bce_term


def cosine_lr(base, step, total):
    progress = min(1.0, max(0.0, step / total)) if total > 0 else 1.0
    return base * 0.5 * (1 + math.cos(math.pi * progress))


# ---- evaluation: sliding window over a prepared case, as src/eval/sliding-window.ts ----

def window_starts(n, roi, overlap=0.5):
    if n <= roi:
        return [0]
    step = max(1, int(math.floor(roi * (1 - overlap))))
    starts = list(range(0, n - roi, step))
    starts.append(n - roi)
    return sorted(set(starts))


def gaussian_importance(roi_zyx, sigma_scale=0.125):
    gs = []
    for n in roi_zyx:
        s = sigma_scale * n
        c = (n - 1) / 2
        gs.append(np.exp(-((np.arange(n) - c) ** 2) / (2 * s * s)))
    g = gs[0][:, None, None] * gs[1][None, :, None] * gs[2][None, None, :]
    return np.maximum(1e-3, g).astype(np.float32)


def pad_to_at_least(a, size, fill=0):
    """As the kit's padToAtLeast: centred padding (floor before)."""
    pads = []
    for n, s in zip(a.shape, size):
        extra = max(0, s - n)
        pads.append((extra // 2, extra - extra // 2))
    return np.pad(a, pads, constant_values=fill)


def predict_volume(model, image_zyx, roi_zyx, classes, blend):
    Z, Y, X = image_zyx.shape
    rz, ry, rx = roi_zyx
    imp = torch.from_numpy(gaussian_importance(roi_zyx))
    acc = torch.zeros((len(classes), Z, Y, X))
    wsum = torch.zeros((Z, Y, X))
    img = torch.from_numpy(image_zyx)
    with torch.no_grad():
        for sz in window_starts(Z, rz):
            for sy in window_starts(Y, ry):
                for sx in window_starts(X, rx):
                    patch = img[sz:sz + rz, sy:sy + ry, sx:sx + rx][None, None]
                    logits = model(patch, classes)[0][0]  # [C, z, y, x]
                    v = logits if blend == "logits" else torch.sigmoid(logits)
                    acc[:, sz:sz + rz, sy:sy + ry, sx:sx + rx] += v * imp
                    wsum[sz:sz + rz, sy:sy + ry, sx:sx + rx] += imp
    acc /= wsum
    return acc > 0 if blend == "logits" else acc > 0.5


def has_class(code, k):
    """Channel k of the kit's post-label codes (src/data/post-label.ts: organ + 32 * (tumour - 25))."""
    return (code >> 5) == k - 25 if k > 25 else (code & 31) == k


def dice_score(pred, truth):
    p, t = pred.sum().item(), truth.sum().item()
    return 1.0 if p + t == 0 else 2 * (pred & truth).sum().item() / (p + t)


def evaluate(model, data_dir, roi_xyz, blend, templates):
    import nibabel as nib
    manifest = json.load(open(os.path.join(data_dir, "manifest.json")))
    roi_zyx = roi_xyz[::-1]
    per_class = {}
    model.eval()
    for c in manifest["cases"]:
        if c["split"] != "test":
            continue
        image = np.asarray(nib.load(os.path.join(data_dir, c["image"])).dataobj, dtype=np.float32).transpose(2, 1, 0)
        label = np.asarray(nib.load(os.path.join(data_dir, c["label"])).dataobj).astype(np.uint8).transpose(2, 1, 0)
        image = pad_to_at_least(image, roi_zyx)
        label = pad_to_at_least(label, roi_zyx)
        present = [k for k in templates[c["template"]] if has_class(label, k).any()]
        if not present:
            continue
        pred = predict_volume(model, image, roi_zyx, present, blend)
        lab = torch.from_numpy(label)
        for i, k in enumerate(present):
            per_class.setdefault(k, []).append(dice_score(pred[i], has_class(lab, k)))
    model.train()
    means = {k: sum(v) / len(v) for k, v in sorted(per_class.items())}
    organ = [v for k, v in means.items() if k not in TUMOR_IDS]
    return {"perClass": {str(k): v for k, v in means.items()},
            "organAverage": sum(organ) / len(organ) if organ else None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trace", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--init", choices=["kit", "torch"], default="kit")
    ap.add_argument("--dice", choices=["squared", "rows"], default="rows")
    ap.add_argument("--eval-bn", choices=["batch", "running"], default="batch")
    ap.add_argument("--blend", choices=["logits", "probs"], default="logits")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--head", choices=["dynamic", "linear"], default="dynamic")
    ap.add_argument("--steps", type=int, default=0, help="replay only the first N steps (0: all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    meta = json.load(open(os.path.join(a.trace, "trace.json")))
    cfg = meta["config"]
    emb = torch.tensor(json.load(open(meta["embedding"]))["embedding"], dtype=torch.float32)
    model = UniversalUNet(cfg["model"]["widths"], emb, cfg["model"]["featureDim"], cfg["model"]["headChannels"], a.eval_bn, a.head)
    if a.init == "kit" and a.head == "dynamic":
        load_kit_weights(model, a.trace)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=cfg["weightDecay"])
    roi = cfg["roi"]  # x, y, z
    n = roi[0] * roi[1] * roi[2]
    images = np.fromfile(os.path.join(a.trace, "images.bin"), dtype="<f4").reshape(-1, roi[2], roi[1], roi[0])
    labels = np.fromfile(os.path.join(a.trace, "labels.bin"), dtype=np.uint8).reshape(-1, roi[2], roi[1], roi[0])
    steps = [json.loads(l) for l in open(os.path.join(a.trace, "steps.jsonl"))]
    if a.steps:
        steps = steps[:a.steps]
    out = {"config": vars(a), "steps": [], "evals": []}
    t0 = time.time()
    k = 0
    for s in steps:
        B = len(s["organs"])
        x = torch.from_numpy(images[k:k + B].copy())[:, None]
        classes = sorted({c for org in s["organs"] for c in org})
        for g in opt.param_groups:
            g["lr"] = s["lr"]
        opt.zero_grad()
        logits, _ = model(x, classes)
        losses = []
        for b in range(B):
            organs = s["organs"][b]
            lab = torch.from_numpy(labels[k + b].astype(np.int64))
            target = torch.stack([has_class(lab, c).float() for c in organs])
            ch = [classes.index(c) for c in organs]
            loss, _ = case_loss(logits[b, ch], target, s["weights"][b], a.dice)
            losses.append(loss)
        loss = sum(losses) / B
        loss.backward()
        opt.step()
        k += B
        out["steps"].append({"it": s["it"], "loss": loss.item(), "kitLoss": s["loss"]})
        if s["it"] % 50 == 0 or s["it"] == len(steps):
            print(f"twin step {s['it']}/{len(steps)} loss {loss.item():.4f} (kit {s['loss']:.4f}) {time.time() - t0:.0f}s",
                  file=sys.stderr, flush=True)
        if a.eval_every and s["it"] % a.eval_every == 0 and s["it"] < len(steps):
            out["evals"].append({"it": s["it"], **evaluate(model, a.data, roi, a.blend, meta["templates"])})
            print(f"twin eval at step {s['it']}: organ average {out['evals'][-1]['organAverage']:.3f}", file=sys.stderr, flush=True)
    out["final"] = evaluate(model, a.data, roi, a.blend, meta["templates"])
    out["evals"].append({"it": len(steps), **out["final"]})
    # The kit's own final weights scored by this script's evaluation: where it equals the kit's score, the
    # two evaluations agree and a kit/twin difference comes from training alone.
    if a.head == "dynamic" and os.path.exists(os.path.join(a.trace, "final.json")) and not a.steps:
        kit_model = UniversalUNet(cfg["model"]["widths"], emb, cfg["model"]["featureDim"], cfg["model"]["headChannels"], a.eval_bn, a.head)
        load_kit_weights(kit_model, a.trace, "final")
        out["kitWeights"] = evaluate(kit_model, a.data, roi, a.blend, meta["templates"])
        print(f"twin: the kit's final weights in this evaluation: organ average {out['kitWeights']['organAverage']:.3f}", file=sys.stderr)
    out["seconds"] = time.time() - t0
    with open(a.out, "w") as f:
        json.dump(out, f)
    print(f"twin: organ average {out['final']['organAverage']:.3f} -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

/** The paper's reported numbers (Chou, Zhou, Yuille, MICCAI 2024), shown beside ours. */

/** Table 1: Average Dice on the single-site set, S = 100. */
export const PAPER_TABLE1 = [
  { method: "LM", memory: 64, average: 0.8217 },
  { method: "LM", memory: 128, average: 0.8222 },
  { method: "LM", memory: 256, average: 0.8225 },
  { method: "Repeated (100 epochs)", memory: null, average: 0.826 },
] as const;

/** Table 2: Tumor / Organ / Average Dice on the 16-site stream, N = 128, S = 100. */
export const PAPER_TABLE2 = [
  { method: "LM", tumor: 0.2559, organ: 0.3471, average: 0.3272 },
  { method: "DM", tumor: 0.3125, organ: 0.4066, average: 0.386 },
  { method: "SM top 12.5%", tumor: 0.3436, organ: 0.4805, average: 0.4505 },
  { method: "SM top 25%", tumor: 0.3878, organ: 0.4958, average: 0.4722 },
  { method: "SM top 50%", tumor: 0.3426, organ: 0.4834, average: 0.4525 },
  { method: "Repeated (100 epochs)", tumor: 0.352, organ: 0.4783, average: 0.4506 },
] as const;

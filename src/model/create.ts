/** Build the network: the Universal Model with the CLIP class embeddings of assets/txt_encoding.json. */
import { readFileSync } from "node:fs";
import { NUM_CLASSES } from "../data/ontology.js";
import { assetPath } from "../util/paths.js";
import { UniversalUNet, type ModelConfig } from "./universal-unet.js";

let embeddingCache: number[][] | undefined;

/** The [32, 512] CLIP embeddings of the class names (read once per process). */
export function loadTextEmbedding(): number[][] {
  if (!embeddingCache) {
    const file = assetPath("txt_encoding.json");
    const j = JSON.parse(readFileSync(file, "utf8")) as { embedding?: number[][]; shape?: number[] };
    if (!Array.isArray(j.embedding) || j.embedding.length !== NUM_CLASSES || j.embedding[0].length !== 512) {
      throw new Error(`${file}: expected "embedding" of shape [${NUM_CLASSES}, 512]`);
    }
    embeddingCache = j.embedding;
  }
  return embeddingCache;
}

export function createModel(config: ModelConfig): UniversalUNet {
  return new UniversalUNet(config, loadTextEmbedding());
}

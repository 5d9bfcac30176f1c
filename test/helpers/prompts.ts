/** The two-node graph of comfyui-protocol.md §13 in API format: valid for a real ComfyUI and the fake. */
export const SMALL_PROMPT = {
  '1': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0 } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'gate_test' } },
} as const;

import { GateError, GateNodeError, type ComfyNodeError } from '../errors.js';
import type { BodyCheck } from '../pipeline/steps.js';
import type { SettingsStore } from '../settings/settingsStore.js';
import { capInputIndex, scanGeneration, type CapBreach } from './generationGraphScan.js';
import { effectiveShareLimits } from './shareLimits.js';

/**
 * A `POST /prompt` within the caller's generation caps (image area, batch, steps, frames, nodes; the
 * key's own or its role's). Without caps the graph is never parsed; with them only its `prompt`
 * member is, never the workflow beside it. A refusal reads like ComfyUI's own validation failure.
 */
export function generationCapsCheck(settings: Pick<SettingsStore, 'current'>): BodyCheck {
  return function generationCaps(exchange, body) {
    if (exchange.bodyCheck !== 'prompt' || body.members === undefined || exchange.limitSubject === null) {
      return undefined;
    }
    const current = settings.current;
    const caps = effectiveShareLimits(exchange.principal, current);
    if (
      caps.maxPixels === null &&
      caps.maxBatch === null &&
      caps.maxSteps === null &&
      caps.maxFrames === null &&
      caps.maxNodes === null
    ) {
      return undefined;
    }
    const scan = scanGeneration(body.value('prompt'), caps, capInputIndex(current.capInputs));
    if (scan.outcome === 'fits') return undefined;
    if (scan.outcome === 'too_many_nodes') {
      return new GateError(
        'generation_cap',
        `This prompt has ${scan.nodes} nodes, above this key's cap of ${scan.limit} nodes per prompt`
      );
    }
    return new GateNodeError(
      'generation_cap',
      scan.breaches.map((breach) => breach.details).join('; '),
      nodeErrorsOf(scan.breaches)
    );
  };
}

function nodeErrorsOf(breaches: readonly CapBreach[]): Record<string, ComfyNodeError> {
  const nodeErrors: Record<string, ComfyNodeError> = {};
  for (const breach of breaches) {
    const entry = (nodeErrors[breach.nodeId] ??= { errors: [], dependent_outputs: [], class_type: breach.classType });
    entry.errors.push({
      type: 'value_bigger_than_max',
      message: 'Value bigger than max',
      details: breach.details,
      extra_info: { input_name: breach.inputName, received_value: breach.received },
    });
  }
  return nodeErrors;
}

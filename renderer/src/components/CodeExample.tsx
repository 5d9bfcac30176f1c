import { CopyButton } from './CopyButton.js';

/**
 * A code example with its copy button. Long lines wrap inside the box; `aligned` text (a command
 * synopsis with continuation lines) keeps its columns and scrolls inside the box instead.
 */
export function CodeExample({ text, what, aligned = false }: { text: string; what: string; aligned?: boolean }) {
  return (
    <div className="help-code">
      <pre className={aligned ? 'code-block code-block-aligned' : 'code-block'}>
        <code>{text}</code>
      </pre>
      <CopyButton text={text} what={what} />
    </div>
  );
}

// Python source shown with syntax highlighting. Only highlight.js's core and
// its Python grammar are bundled, with a light theme from node_modules, so
// nothing is fetched from the internet.
import { useMemo } from "react";
import hljs from "highlight.js/lib/core";
import python from "highlight.js/lib/languages/python";
import "highlight.js/styles/github.css";

hljs.registerLanguage("python", python);

export function PythonCode({ source, label }: { source: string; label: string }) {
  // highlight.js escapes the source; its output holds only its own spans.
  const html = useMemo(() => hljs.highlight(source, { language: "python", ignoreIllegals: true }).value, [source]);
  const lines = useMemo(() => source.split("\n").length, [source]);
  return (
    <div className="pg-code" role="region" aria-label={label} tabIndex={0}>
      <pre className="pg-gutter" aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => i + 1).join("\n")}
      </pre>
      <pre className="pg-source">
        <code className="hljs language-python" dangerouslySetInnerHTML={{ __html: html }} />
      </pre>
    </div>
  );
}

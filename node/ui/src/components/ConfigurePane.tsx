// Placeholder: the Configure pane of an application is being built (issue 14).
// Contract: shown by the application page and the editor; `app` is the
// application document as GET /applications/{name} answers it; `onSaved`
// receives the document after the pane stored it (POST /applications).
export interface ConfigurePaneProps {
  app: Record<string, any>;
  onSaved: (doc: Record<string, any>) => void;
  onClose: () => void;
}

export function ConfigurePane(_: ConfigurePaneProps) {
  return null;
}

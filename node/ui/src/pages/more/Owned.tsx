// The actions cell of content a SyncPack may own: the pack's name (linked)
// instead of the actions, which the API would refuse for owned content.
import type { ReactNode } from "react";
import { Link } from "wouter";

export function OwnedOr(props: { pack?: string; known: boolean; children: ReactNode }) {
  if (!props.known) return null;
  if (props.pack) {
    return (
      <span className="muted" title="Owned by a SyncPack: change it through the pack">
        from <Link href={`/syncpacks?name=${encodeURIComponent(props.pack)}`}>{props.pack}</Link>
      </span>
    );
  }
  return <>{props.children}</>;
}

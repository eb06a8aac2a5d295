// Uploading a file with progress. fetch cannot report how much of a request
// body has been sent, so this one call uses XMLHttpRequest, with the same
// session token, error shape and end-of-session handling as api.ts.
import { ApiError, currentSession, setSession } from "../../api";

export interface Progress {
  sent: number;
  total: number;
}

/**
 * POSTs `form` (multipart/form-data; the browser writes its boundary) to
 * `/api/v1{path}` and answers the parsed JSON body, or throws an ApiError
 * carrying the API's `error` and `details`.
 */
export function uploadForm<T>(path: string, form: FormData, onProgress: (p: Progress) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    xhr.setRequestHeader("Accept", "application/json");
    const s = currentSession();
    if (s) xhr.setRequestHeader("Authorization", `Bearer ${s.token}`);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress({ sent: e.loaded, total: e.total });
    };
    xhr.onerror = () => reject(new ApiError(0, "The upload did not reach the node (connection lost?)"));
    xhr.onabort = () => reject(new ApiError(0, "The upload was cancelled"));
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        resolve(body as T);
        return;
      }
      const b = (body ?? {}) as { error?: unknown; details?: unknown };
      const message = typeof b.error === "string" ? b.error : `${xhr.status} ${xhr.statusText}`;
      const details = Array.isArray(b.details) ? b.details.map(String) : [];
      if (xhr.status === 401 && currentSession()) setSession(null, "Your session has ended; sign in again.");
      reject(new ApiError(xhr.status, message, details));
    };
    xhr.send(form);
  });
}

// A token signed with a key id the config does not hold may mean the issuer rotated its key and the
// operator has rendered the new one into the ConfigMap, which the kubelet has not yet synced or
// whose change event was missed. The relay cannot fetch keys itself (it has no API token), so it
// re-reads its mounted config: at most once per interval however many such tokens arrive, so a
// client replaying a foreign token cannot make it re-read in a loop. Pure but for the callback.

export function unknownKeyReread(
  reread: () => void,
  intervalSeconds: () => number,
  now: () => number,
): () => boolean {
  let last = Number.NEGATIVE_INFINITY;
  return () => {
    const at = now();
    if (at - last < intervalSeconds() * 1000) return false;
    last = at;
    reread();
    return true;
  };
}

// TXT lookups for DNS verification, through the resolver `--dns-resolver` names (the system's when
// unset). The one place the SenderDomain reconciler touches the network.
import { Resolver } from 'node:dns/promises';
import { errorMessage } from '../log.ts';
import type { TxtAnswer } from '../status/sender-domain-dns-check.ts';

export type LookupTxt = (names: readonly string[]) => Promise<ReadonlyMap<string, TxtAnswer>>;

export function txtLookup(server: string | undefined, timeoutMs = 2_000): LookupTxt {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (server !== undefined) resolver.setServers([server]);
  return async (names) => {
    const unique = [...new Set(names)];
    const answers = await Promise.all(
      unique.map(async (name): Promise<TxtAnswer> => {
        try {
          return { records: await resolver.resolveTxt(name) };
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          return { error: code ?? errorMessage(error) };
        }
      }),
    );
    return new Map(unique.map((name, index) => [name, answers[index] ?? { error: 'no answer' }]));
  };
}

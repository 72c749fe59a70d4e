// Address lists (allowed relay networks, trusted proxies) compiled once from CIDR strings.
import { BlockList, isIP } from 'node:net';

/** Answers a list remembers (client addresses repeat: each session asks three or four times). */
const rememberedAnswers = 4096;

export interface NetworkList {
  contains(address: string): boolean;
}

export function compileNetworks(cidrs: readonly string[]): NetworkList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address = '', prefix] = cidr.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  const check = (address: string): boolean => {
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
  // A pure function of the address for the list's life (a reload compiles a new list). Emptied when
  // full, so clients cycling through addresses cost memory up to the bound and no more.
  const answers = new Map<string, boolean>();
  return {
    contains(address: string): boolean {
      let answer = answers.get(address);
      if (answer === undefined) {
        answer = check(address);
        if (answers.size >= rememberedAnswers) answers.clear();
        answers.set(address, answer);
      }
      return answer;
    },
  };
}

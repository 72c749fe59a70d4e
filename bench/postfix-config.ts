// main.cf and master.cf for a private Postfix instance used as the reference relay (pure).

export interface PostfixSettings {
  readonly directory: string;
  readonly listenPort: number;
  readonly nextHopPort: number;
  /** Put every accepted message on the hold queue (to build a backlog that is released later). */
  readonly holdEverything: boolean;
  /** Upper bound on concurrent smtpd processes, i.e. concurrent inbound sessions. */
  readonly maxSessions: number;
}

export function postfixMainCf(settings: PostfixSettings): string {
  const { directory } = settings;
  const lines = [
    'compatibility_level = 3.6',
    `queue_directory = ${directory}/queue`,
    `data_directory = ${directory}/data`,
    'command_directory = /usr/sbin',
    'daemon_directory = /usr/lib/postfix/sbin',
    'shlib_directory = /usr/lib/postfix',
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'myhostname = postfix.bench.example',
    'mydomain = bench.example',
    'myorigin = $myhostname',
    // A pure relay: nothing is delivered locally, everything goes to the next hop.
    'mydestination =',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
    `relayhost = [127.0.0.1]:${settings.nextHopPort}`,
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    'smtp_dns_support_level = disabled',
    'smtp_host_lookup = native',
    'smtpd_delay_reject = yes',
    // Every client is 127.0.0.1: the per-client limits would otherwise cap the load at 50 sessions.
    'smtpd_client_connection_count_limit = 0',
    'smtpd_client_connection_rate_limit = 0',
    'smtpd_client_message_rate_limit = 0',
    `maillog_file = ${directory}/maillog`,
    `maillog_file_prefixes = ${directory}`,
    'biff = no',
    // Durability is Postfix's default and is not weakened: cleanup fsync()s each queue file before
    // smtpd answers 250 (verified with strace; see docs/benchmarks.md).
  ];
  if (settings.holdEverything) {
    lines.push(
      'smtpd_recipient_restrictions = check_client_access static:HOLD',
      // in_flow_delay paces smtpd by qmgr's pickups; held messages never reach qmgr.
      'in_flow_delay = 0',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function postfixMasterCf(settings: PostfixSettings): string {
  // service type private unpriv chroot wakeup maxproc command; nothing is chrooted (the queue is private).
  const services = [
    `127.0.0.1:${settings.listenPort} inet n - n - ${settings.maxSessions} smtpd`,
    'pickup unix n - n 60 1 pickup',
    'cleanup unix n - n - 0 cleanup',
    'qmgr unix n - n 300 1 qmgr',
    'rewrite unix - - n - - trivial-rewrite',
    'bounce unix - - n - 0 bounce',
    'defer unix - - n - 0 bounce',
    'trace unix - - n - 0 bounce',
    'verify unix - - n - 1 verify',
    'flush unix n - n 1000? 0 flush',
    'proxymap unix - - n - - proxymap',
    'smtp unix - - n - - smtp',
    'relay unix - - n - - smtp',
    'showq unix n - n - - showq',
    'error unix - - n - - error',
    'retry unix - - n - - error',
    'discard unix - - n - - discard',
    'anvil unix - - n - 1 anvil',
    'scache unix - - n - 1 scache',
    'postlog unix-dgram n - n - 1 postlogd',
  ];
  return `${services.join('\n')}\n`;
}

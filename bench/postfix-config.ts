// main.cf and master.cf for a private Postfix instance used as the reference relay (pure).
import { postfixHostname } from './realistic.ts';

export interface PostfixSettings {
  readonly directory: string;
  readonly listenPort: number;
  readonly nextHopPort: number;
  /** Put every accepted message on the hold queue (to build a backlog that is released later). */
  readonly holdEverything: boolean;
  /** Upper bound on concurrent smtpd processes, i.e. concurrent inbound sessions. */
  readonly maxSessions: number;
  /** STARTTLS, Cyrus SASL AUTH and the OpenDKIM milter, as the Postfix charts set it up (the realistic set). */
  readonly security?: PostfixSecurity;
  /** A plain relay that passes every message through this milter (OpenDKIM verifying what it receives). */
  readonly milterPort?: number;
}

export interface PostfixSecurity {
  readonly certFile: string;
  readonly keyFile: string;
  /** Where smtpd.conf (Cyrus SASL's settings for Postfix's smtpd) is. */
  readonly saslConfigDirectory: string;
  /** OpenDKIM milters, in the order each message goes through them. */
  readonly milterPorts: readonly number[];
}

/** Cyrus SASL's smtpd.conf: AUTH PLAIN and LOGIN checked against the users in a sasldb file (pure). */
export function cyrusSmtpdConf(sasldbFile: string): string {
  return [
    'pwcheck_method: auxprop',
    'auxprop_plugin: sasldb',
    'mech_list: PLAIN LOGIN',
    `sasldb_path: ${sasldbFile}`,
  ]
    .map((line) => `${line}\n`)
    .join('');
}

/**
 * TLS offered (`may`), AUTH only inside TLS and required to relay (nobody relays by address), every
 * message through the OpenDKIM milter, and a message refused (4xx) rather than sent unsigned when
 * the milter fails — the settings of docker-postfix-style charts with SASL and OpenDKIM turned on.
 */
function securityLines(security: PostfixSecurity): string[] {
  return [
    'smtpd_tls_security_level = may',
    `smtpd_tls_cert_file = ${security.certFile}`,
    `smtpd_tls_key_file = ${security.keyFile}`,
    'smtpd_tls_auth_only = yes',
    'smtpd_sasl_auth_enable = yes',
    'smtpd_sasl_type = cyrus',
    'smtpd_sasl_path = smtpd',
    `cyrus_sasl_config_path = ${security.saslConfigDirectory}`,
    'smtpd_sasl_security_options = noanonymous',
    'smtpd_relay_restrictions = permit_sasl_authenticated, reject',
    `smtpd_milters = ${security.milterPorts.map((port) => `inet:127.0.0.1:${port}`).join(', ')}`,
    'non_smtpd_milters = $smtpd_milters',
    'milter_default_action = tempfail',
    'milter_protocol = 6',
  ];
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
    // Also the realm of the SASL user in sasldb.
    `myhostname = ${postfixHostname}`,
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
    ...(settings.security === undefined
      ? [
          'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
          'smtpd_tls_security_level = none',
        ]
      : securityLines(settings.security)),
    `relayhost = [127.0.0.1]:${settings.nextHopPort}`,
    'smtp_tls_security_level = none',
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
  if (settings.milterPort !== undefined) {
    lines.push(`smtpd_milters = inet:127.0.0.1:${settings.milterPort}`, 'milter_default_action = tempfail');
  }
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
    // smtpd's TLS needs the TLS manager (its PRNG seed and session cache).
    ...(settings.security === undefined ? [] : ['tlsmgr unix - - n 1000? 1 tlsmgr']),
  ];
  return `${services.join('\n')}\n`;
}

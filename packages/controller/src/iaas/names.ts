/** IaaS names the original controller used [compat]: operators and the Go tools look resources up by them. */

/** VIPs that pin a vxnet's pod range, and the security-group rule that lets the vxnet in. */
export function hostnicNameOf(vxnetId: string): string {
  return `hostnic_${vxnetId}`;
}

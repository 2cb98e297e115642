#!/usr/bin/env bash
# mmdebstrap's extract hook for the image's root filesystem ($1): does what the skipped maintainer scripts
# would have done for the programs the image runs, and drops what nothing in the image reads.
set -euo pipefail
root="$1"

# Debian's default alternatives (nft backends), the same as a Debian base image has.
for pair in iptables:iptables-nft ip6tables:ip6tables-nft ebtables:ebtables-nft; do
  name="${pair%%:*}" target="${pair##*:}"
  for suffix in '' -restore -save; do
    ln -sfn "$target$suffix" "$root/usr/sbin/$name$suffix"
  done
done

# The three programs of busybox the image uses (see packages.txt); none of them is in another package here.
ln -sfn /bin/busybox "$root/bin/sh"
ln -sfn /bin/busybox "$root/bin/cat"
mkdir -p "$root/usr/bin"
ln -sfn /bin/busybox "$root/usr/bin/env"

# root runs the agent (it configures the node's network); uid 65532 runs the controller.
cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/usr/sbin/nologin
hostnic:x:65532:65532:hostnic-controller:/nonexistent:/usr/sbin/nologin
PASSWD
cat >"$root/etc/group" <<'GROUP'
root:x:0:
hostnic:x:65532:
GROUP
mkdir -p "$root/root" "$root/run" "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
chmod 1777 "$root/tmp" "$root/var/tmp"
ln -sfn /run "$root/var/run"

# ss and arpd (the agent runs neither) and the libraries only they load: Sun RPC, Kerberos and OpenSSL
# (through libtirpc, for ss) and Berkeley DB (for arpd), about 9 MB.
lib="$root/usr/lib/x86_64-linux-gnu" baselib="$root/lib/x86_64-linux-gnu"
rm -f "$root/bin/ss" "$root/usr/sbin/arpd"
for so in libtirpc.so.3 libgssapi_krb5.so.2 libkrb5.so.3 libk5crypto.so.3 libkrb5support.so.0 libkeyutils.so.1 \
  libcom_err.so.2 libssl.so.3 libcrypto.so.3 libdb-5.3.so; do
  rm -f "$lib/$so"* "$baselib/$so"*
done
# tc's ATM qdisc module: it links libatm, which iproute2 only recommends, so it could never load.
rm -f "$lib/tc/q_atm.so"
rm -rf "$lib/krb5" "$lib/engines-3" "$lib/ossl-modules" "$root/usr/lib/ssl" "$root/etc/ssl" "$root/etc/netconfig"

# Documentation, translations and charset converters (glibc loads gconv only for iconv, which nothing here
# calls), and what apt and dpkg left behind.
rm -rf "$root"/usr/share/{doc,man,info,locale,lintian,bash-completion,common-licenses} \
  "$root"/usr/lib/x86_64-linux-gnu/gconv "$root"/var/cache/apt "$root"/var/lib/apt "$root"/var/log/*

# Every program and library left must find the libraries it links (readelf reads them without running them).
missing=0
while IFS= read -r -d '' elf; do
  dynamic="$(readelf -d "$elf" 2>/dev/null || true)"
  runpath="$(sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p' <<<"$dynamic")"
  for needed in $(sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' <<<"$dynamic"); do
    if [ ! -e "$baselib/$needed" ] && [ ! -e "$lib/$needed" ] && [ ! -e "$root/lib64/$needed" ] \
      && { [ -z "$runpath" ] || [ ! -e "$root$runpath/$needed" ]; }; then
      echo "rootfs: ${elf#"$root"} needs $needed, which is not in the image" >&2
      missing=1
    fi
  done
done < <(find "$root" -type f \( -perm -u+x -o -name '*.so*' \) -print0)
[ "$missing" -eq 0 ]
# Node (added beside this root filesystem) links these; they must stay.
for needed in libstdc++.so.6 libgcc_s.so.1 libm.so.6 libdl.so.2 libpthread.so.0 libc.so.6; do
  [ -e "$baselib/$needed" ] || [ -e "$lib/$needed" ] || { echo "rootfs: node needs $needed, which is not in the image" >&2; exit 1; }
done

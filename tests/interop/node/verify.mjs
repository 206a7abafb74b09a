// @simplewebauthn/server verifies the registrations and assertions Tandem produced (recorded by
// tests/interop/python/rp_verify.py, which made them through Tandem's WebAuthn layer and engine).
// usage: node verify.mjs FIXTURE.json — exits non-zero on any failure; prints 'N passed, N failed'.
import { readFileSync } from 'node:fs';
import {
  SettingsService,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';

const fixture = JSON.parse(readFileSync(process.argv[2], 'utf8'));
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok   ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`FAIL ${name}: ${err?.stack ?? err}`);
  }
}

async function mustFail(what, fn) {
  let accepted = false;
  try {
    const r = await fn();
    accepted = r?.verified === true;
  } catch {
    return;
  }
  if (accepted) throw new Error(`${what} was accepted`);
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const common = { expectedOrigin: fixture.origin, expectedRPID: fixture.rp_id, requireUserVerification: true };

for (const c of fixture.cases) {
  await check(`simplewebauthn ${c.case}`, async () => {
    // Trust exactly this case's root (packed x5c); with no root configured an x5c chain must not verify.
    SettingsService.setRootCertificates({ identifier: 'packed', certificates: c.root_pem ? [c.root_pem] : [] });
    const reg = await verifyRegistrationResponse({
      response: c.registration.credential,
      expectedChallenge: c.registration.challenge,
      supportedAlgorithmIDs: [c.alg],
      ...common,
    });
    assert(reg.verified, 'registration not verified');
    const info = reg.registrationInfo;
    assert(info.fmt === c.fmt, `fmt ${info.fmt} != ${c.fmt}`);
    assert(info.userVerified, 'UV flag not set');
    assert(info.credential.id === c.registration.credential.id, 'credential id mismatch');

    let counter = info.credential.counter;
    for (const a of c.authentications) {
      const auth = await verifyAuthenticationResponse({
        response: a.credential,
        expectedChallenge: a.challenge,
        credential: { ...info.credential, counter },
        ...common,
      });
      assert(auth.verified, 'assertion not verified');
      assert(auth.authenticationInfo.userVerified, 'assertion UV flag not set');
      counter = auth.authenticationInfo.newCounter;

      // Negative controls: the verifier must reject a flipped signature bit and a wrong challenge.
      const sig = Buffer.from(a.credential.response.signature, 'base64url');
      sig[sig.length >> 1] ^= 1;
      const tampered = structuredClone(a.credential);
      tampered.response.signature = sig.toString('base64url');
      await mustFail('tampered signature', () =>
        verifyAuthenticationResponse({ response: tampered, expectedChallenge: a.challenge, credential: info.credential, ...common }),
      );
      await mustFail('wrong challenge', () =>
        verifyAuthenticationResponse({ response: a.credential, expectedChallenge: 'AAAA', credential: info.credential, ...common }),
      );
    }
    if (c.root_pem) {
      // An empty root list makes simplewebauthn skip path validation, so trust an unrelated root instead:
      // the chain must then fail to verify.
      SettingsService.setRootCertificates({ identifier: 'packed', certificates: [c.unrelated_root_pem] });
      await mustFail('x5c under an unrelated root', () =>
        verifyRegistrationResponse({
          response: c.registration.credential,
          expectedChallenge: c.registration.challenge,
          supportedAlgorithmIDs: [c.alg],
          ...common,
        }),
      );
    }
  });
}

console.log(`simplewebauthn: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);

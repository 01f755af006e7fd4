// SPDX-License-Identifier: MIT
/* xmlsec_nss_sign: "xmlsec1 --sign --crypto nss --crypto-config DBDIR" for the interop test.
 *
 * Debian 12's xmlsec1 program is built with the OpenSSL backend only ("dynamic xmlsec-crypto
 * library loading is disabled and the only available crypto library is 'openssl'"), so this small
 * program does what xmlsec1's NSS build does: initialise xmlsec's NSS backend on an NSS database,
 * use xmlsec's default NSS keys manager (which finds a key named in <dsig:KeyName> by certificate
 * nickname in the NSS database, "token:label"), and sign a template (xmlSecDSigCtxSign). Like
 * every NSS application it supplies the token password through PK11_SetPasswordFunc; the password
 * is read from a file and given once per request (never on a retry, so a wrong password cannot
 * burn more than one try). It reports how often NSS asked, so the test can see the extra
 * context-specific login of a CKA_ALWAYS_AUTHENTICATE key.
 *
 *   xmlsec_nss_sign DBDIR PASSWORD_FILE TEMPLATE OUTPUT
 */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <nss.h>
#include <pk11pub.h>
#include <prerror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>

static char password[256];
static int asked;

static char* password_cb(PK11SlotInfo* slot, PRBool retry, void* arg) {
  (void)arg;
  ++asked;
  fprintf(stderr, "xmlsec_nss_sign: NSS asks for the password of token \"%s\"%s\n",
          PK11_GetTokenName(slot), retry ? " again (wrong password: giving up)" : "");
  return retry ? NULL : PORT_Strdup(password);
}

static int fail(const char* what) {
  PRErrorCode err = PR_GetError();
  fprintf(stderr, "xmlsec_nss_sign: %s failed (NSS error %d %s)\n", what, (int)err,
          err ? PR_ErrorToName(err) : "-");
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s DBDIR PASSWORD_FILE TEMPLATE OUTPUT\n", argv[0]);
    return 2;
  }
  FILE* pw = fopen(argv[2], "r");
  if (!pw || !fgets(password, sizeof password, pw)) {
    fprintf(stderr, "xmlsec_nss_sign: cannot read %s\n", argv[2]);
    return 2;
  }
  fclose(pw);
  password[strcspn(password, "\r\n")] = '\0';

  xmlInitParser();
  xmlSubstituteEntitiesDefault(1);
  if (xmlSecInit() < 0) return fail("xmlSecInit");
  if (xmlSecCheckVersion() != 1) return fail("xmlSecCheckVersion");
  if (xmlSecCryptoAppInit(argv[1]) < 0) {
    return fail("xmlSecCryptoAppInit (NSS_Init on the database)");
  }
  if (xmlSecCryptoInit() < 0) return fail("xmlSecCryptoInit");
  PK11_SetPasswordFunc(password_cb);

  xmlSecKeysMngrPtr mngr = xmlSecKeysMngrCreate();
  if (!mngr || xmlSecCryptoAppDefaultKeysMngrInit(mngr) < 0) return fail("keys manager");

  xmlDocPtr doc = xmlParseFile(argv[3]);
  if (!doc || !xmlDocGetRootElement(doc)) return fail("parsing the template");
  xmlNodePtr node = xmlSecFindNode(xmlDocGetRootElement(doc), xmlSecNodeSignature, xmlSecDSigNs);
  if (!node) return fail("finding dsig:Signature");

  xmlSecDSigCtxPtr ctx = xmlSecDSigCtxCreate(mngr);
  if (!ctx) return fail("xmlSecDSigCtxCreate");
  int rc = 0;
  if (xmlSecDSigCtxSign(ctx, node) < 0) {
    rc = fail("xmlSecDSigCtxSign");
  } else {
    FILE* out = fopen(argv[4], "w");
    if (!out || xmlDocDump(out, doc) < 0) rc = fail("writing the output");
    if (out) fclose(out);
    fprintf(
        stderr, "xmlsec_nss_sign: signed with key \"%s\"; NSS asked for the password %d time(s)\n",
        ctx->signKey && xmlSecKeyGetName(ctx->signKey) ? (const char*)xmlSecKeyGetName(ctx->signKey)
                                                       : "?",
        asked);
  }
  xmlSecDSigCtxDestroy(ctx);
  xmlFreeDoc(doc);
  xmlSecKeysMngrDestroy(mngr);
  xmlSecCryptoShutdown();
  xmlSecCryptoAppShutdown();
  xmlSecShutdown();
  xmlCleanupParser();
  return rc;
}

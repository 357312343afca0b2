/** The iSCSI fabric's implementation (RFC 7143); nothing here is exported. */
package org.jtarget.iscsi.internal;

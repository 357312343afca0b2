/** iSCSI fabric internals: login (RFC 7143). */
package org.jtarget.iscsi.internal.login;

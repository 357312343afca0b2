/** iSCSI fabric internals: codec (RFC 7143). */
package org.jtarget.iscsi.internal.codec;

/** SCSI wire values shared by the core, fabrics and backstores (SPC-4, SAM-5). */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package org.jtarget.scsi;

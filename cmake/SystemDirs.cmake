# System directories for units, rules and policy. Packagers get the paths the
# distribution's pkg-config files name; a bare source build falls back to
# GNUInstallDirs-relative paths so that DESTDIR staging always works.

function(phonebind_pkg_var out module variable fallback)
  set(value "")
  if(NOT DEFINED ${out})
    pkg_get_variable(value ${module} ${variable})
  endif()
  if(DEFINED ${out})
    set(value ${${out}})
  elseif(value STREQUAL "")
    set(value ${fallback})
  endif()
  set(${out} ${value} CACHE PATH "${module} ${variable}")
endfunction()

phonebind_pkg_var(SYSTEMD_SYSTEM_UNIT_DIR systemd systemdsystemunitdir
  ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
phonebind_pkg_var(SYSUSERS_DIR systemd sysusersdir
  ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d)
phonebind_pkg_var(TMPFILES_DIR systemd tmpfilesdir
  ${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d)
phonebind_pkg_var(UDEV_DIR udev udevdir ${CMAKE_INSTALL_PREFIX}/lib/udev)
phonebind_pkg_var(DBUS_SYSTEM_BUS_SERVICES_DIR dbus-1 system_bus_services_dir
  ${CMAKE_INSTALL_FULL_DATADIR}/dbus-1/system-services)
phonebind_pkg_var(DBUS_INTERFACES_DIR dbus-1 interfaces_dir
  ${CMAKE_INSTALL_FULL_DATADIR}/dbus-1/interfaces)
set(DBUS_SYSTEM_POLICY_DIR ${CMAKE_INSTALL_FULL_DATADIR}/dbus-1/system.d
  CACHE PATH "D-Bus system bus policy directory")
set(POLKIT_ACTIONS_DIR ${CMAKE_INSTALL_FULL_DATADIR}/polkit-1/actions
  CACHE PATH "polkit action directory")
set(PHONEBIND_SYSCONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR}/phonebind
  CACHE PATH "configuration directory")
set(PHONEBIND_STATEDIR ${CMAKE_INSTALL_FULL_LOCALSTATEDIR}/lib/phonebind
  CACHE PATH "daemon state directory")

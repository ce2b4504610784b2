// Texts of the Pingan dashboard in Simplified Chinese (default) and English.
// Keys are the API's snake_case values, so new kinds only need a line here.
'use strict';
window.I18N = {
  'zh-CN': {
    app_title: '平安 · 护士站',
    login_title: '护士站登录',
    user: '用户名', password: '密码', login: '登录', logout: '退出',
    login_failed: '用户名或密码错误', login_throttled: '失败次数过多，请 {s} 秒后再试',
    tab_alerts: '报警', tab_floor: '楼层', tab_devices: '设备', tab_status: '系统状态',
    open_alerts: '待处理报警', recent_resolved: '最近已处理', no_alerts: '当前没有报警',
    unacked: '未确认', connection_lost: '与网关的连接已断开，正在重连…报警可能不是最新的',
    sound_off: '点击此处启用报警提示音', mute: '静音 2 分钟', muted: '已静音至 {t}',
    ack: '确认', resolve: '处理完毕', details: '详情', close: '关闭',
    your_name: '您的姓名', note: '备注', note_ph: '例如：已到床边，老人无受伤',
    raised: '发生', ago: '{d}前', in: '{d}后', escalation: '升级级别', level: '第 {n} 级',
    next_escalation: '下次升级', no_escalation: '不再升级',
    resident: '长者', location: '位置', room: '房间', bed: '床位', floor: '楼层', device: '设备', gateway: '网关',
    last_seen: '最近一次', count: '次数', acknowledged_by: '确认人', resolution: '结果',
    green_channel: '已通知医院绿色通道', evidence: '证据', vitals: '生命体征',
    accel: '加速度（g），跌倒前后', audit: '处理记录', time: '时间', action: '操作', by: '人员',
    via: '途径', ack_done: '已确认', resolve_done: '已处理', error: '出错了',
    in_bed: '在床', out_of_bed: '离床', away: '不在房间', unknown: '未知',
    news2: 'NEWS2', partial: '（参数不全）', no_residents: '没有长者信息',
    online: '在线', degraded: '异常', offline: '离线', battery: '电量', health: '状态', model: '类型',
    site: '机构', uptime: '运行时间', readings_per_s: '每秒读数', readings_total: '读数总计',
    uplinks: '上行链路', connected: '已连接', disconnected: '未连接', outbox: '待发送',
    storage: '存储', fall_detection: '跌倒检测', on: '运行中', off: '未运行', live: '实时连接',
    server_time: '网关时间', detail_text: '说明', language: 'English',
    hr: '心率', spo2: '血氧', rr: '呼吸', temp: '体温', sbp: '收缩压',
    d: '天', h: '小时', m: '分', s: '秒',
    priority: { high: '高', medium: '中', low: '低' },
    state: { raised: '新报警', delivered: '已送达', escalated: '已升级', acknowledged: '已确认', resolved: '已处理' },
    kind: {
      sos: '紧急呼叫', fall: '跌倒', vitals: '生命体征异常', bed_exit: '夜间离床',
      out_of_bed_too_long: '离床过久', inactivity: '长时间无活动', wandering: '走失风险',
      smoke: '烟雾报警', gas: '燃气泄漏', water_leak: '漏水', environment: '室内环境异常',
      device_offline: '设备离线', low_battery: '电量低', technical: '系统故障'
    },
    audit_action: {
      raised: '报警', delivered: '已送达', escalated: '升级', acknowledged: '确认', resolved: '处理完毕',
      cancelled: '长者取消', cleared: '情况解除', repeated: '重复', updated: '更新'
    },
    via_name: { system: '系统', resident: '长者', mqtt: 'MQTT', http: '护士站', cli: '命令行' },
    response: { routine: '常规', ward: '病房评估', urgent: '紧急', emergency: '危急' },
    care_flag: {
      fall_risk: '跌倒风险', dementia: '认知障碍', bed_exit_watch: '离床监护', lives_alone: '独居',
      hypercapnic: '高碳酸血症', supplemental_oxygen: '吸氧'
    },
    device_model: {
      wristband: '手环', pendant: '呼叫挂坠', bed_mat: '床垫传感器', room_sensor: '温湿度传感器',
      door_contact: '门磁', smoke_detector: '烟感', gas_detector: '燃气探测器', water_leak: '水浸传感器',
      call_panel: '呼叫面板', beacon: '信标', bp_cuff: '血压计', oximeter: '血氧仪',
      thermometer: '体温计', scale: '体重秤'
    },
    vital_key: {
      heart_rate: '心率', spo2: '血氧', respiration_rate: '呼吸频率', temperature: '体温',
      systolic: '收缩压', diastolic: '舒张压', news2: 'NEWS2', button: '按键', peak_g: '峰值加速度',
      score: '评分', hz: '采样率'
    }
  },
  en: {
    app_title: 'Pingan · Nurse station',
    login_title: 'Nurse station login',
    user: 'User name', password: 'Password', login: 'Log in', logout: 'Log out',
    login_failed: 'Wrong user name or password', login_throttled: 'Too many failed logins; try again in {s} s',
    tab_alerts: 'Alerts', tab_floor: 'Floor', tab_devices: 'Devices', tab_status: 'Status',
    open_alerts: 'Open alerts', recent_resolved: 'Recently resolved', no_alerts: 'No alerts',
    unacked: 'unacknowledged', connection_lost: 'Connection to the gateway lost, reconnecting… alerts may be out of date',
    sound_off: 'Tap here to enable alarm sound', mute: 'Silence 2 min', muted: 'Silenced until {t}',
    ack: 'Acknowledge', resolve: 'Resolve', details: 'Details', close: 'Close',
    your_name: 'Your name', note: 'Note', note_ph: 'e.g. at the bedside, no injury',
    raised: 'Raised', ago: '{d} ago', in: 'in {d}', escalation: 'Escalation', level: 'level {n}',
    next_escalation: 'Next escalation', no_escalation: 'no further escalation',
    resident: 'Resident', location: 'Location', room: 'Room', bed: 'Bed', floor: 'Floor', device: 'Device', gateway: 'Gateway',
    last_seen: 'Last seen', count: 'Count', acknowledged_by: 'Acknowledged by', resolution: 'Resolution',
    green_channel: 'Sent to the hospital green channel', evidence: 'Evidence', vitals: 'Vital signs',
    accel: 'Acceleration (g) around the fall', audit: 'Audit trail', time: 'Time', action: 'Action', by: 'By',
    via: 'Via', ack_done: 'Acknowledged', resolve_done: 'Resolved', error: 'Error',
    in_bed: 'In bed', out_of_bed: 'Out of bed', away: 'Away', unknown: 'Unknown',
    news2: 'NEWS2', partial: ' (partial)', no_residents: 'No residents',
    online: 'Online', degraded: 'Degraded', offline: 'Offline', battery: 'Battery', health: 'Health', model: 'Model',
    site: 'Site', uptime: 'Uptime', readings_per_s: 'Readings/s', readings_total: 'Readings total',
    uplinks: 'Uplinks', connected: 'connected', disconnected: 'disconnected', outbox: 'Outbox',
    storage: 'Storage', fall_detection: 'Fall detection', on: 'running', off: 'not running', live: 'Live connection',
    server_time: 'Gateway time', detail_text: 'Detail', language: '中文',
    hr: 'HR', spo2: 'SpO₂', rr: 'RR', temp: 'Temp', sbp: 'SBP',
    d: 'd', h: 'h', m: 'min', s: 's',
    priority: { high: 'High', medium: 'Medium', low: 'Low' },
    state: { raised: 'New', delivered: 'Delivered', escalated: 'Escalated', acknowledged: 'Acknowledged', resolved: 'Resolved' },
    kind: {
      sos: 'SOS call', fall: 'Fall', vitals: 'Abnormal vital signs', bed_exit: 'Bed exit at night',
      out_of_bed_too_long: 'Out of bed too long', inactivity: 'No activity', wandering: 'Wandering',
      smoke: 'Smoke alarm', gas: 'Gas leak', water_leak: 'Water leak', environment: 'Room climate out of range',
      device_offline: 'Device offline', low_battery: 'Low battery', technical: 'Technical fault'
    },
    audit_action: {
      raised: 'Raised', delivered: 'Delivered', escalated: 'Escalated', acknowledged: 'Acknowledged',
      resolved: 'Resolved', cancelled: 'Cancelled by resident', cleared: 'Condition cleared',
      repeated: 'Repeated', updated: 'Updated'
    },
    via_name: { system: 'system', resident: 'resident', mqtt: 'MQTT', http: 'dashboard', cli: 'command line' },
    response: { routine: 'routine', ward: 'ward review', urgent: 'urgent', emergency: 'emergency' },
    care_flag: {
      fall_risk: 'Fall risk', dementia: 'Dementia', bed_exit_watch: 'Bed-exit watch', lives_alone: 'Lives alone',
      hypercapnic: 'Hypercapnic', supplemental_oxygen: 'On oxygen'
    },
    device_model: {
      wristband: 'Wristband', pendant: 'SOS pendant', bed_mat: 'Bed mat', room_sensor: 'Room sensor',
      door_contact: 'Door contact', smoke_detector: 'Smoke detector', gas_detector: 'Gas detector',
      water_leak: 'Water-leak sensor', call_panel: 'Call panel', beacon: 'Beacon', bp_cuff: 'BP cuff',
      oximeter: 'Oximeter', thermometer: 'Thermometer', scale: 'Scale'
    },
    vital_key: {
      heart_rate: 'Heart rate', spo2: 'SpO₂', respiration_rate: 'Respiration rate', temperature: 'Temperature',
      systolic: 'Systolic BP', diastolic: 'Diastolic BP', news2: 'NEWS2', button: 'Button', peak_g: 'Peak acceleration',
      score: 'Score', hz: 'Sample rate'
    }
  }
};

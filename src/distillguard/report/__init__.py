"""distillguard.report"""

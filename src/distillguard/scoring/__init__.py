"""distillguard.scoring"""
